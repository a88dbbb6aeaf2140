-- Idempotent requests: the answer to a request sent with an `Idempotency-Key`, kept so that a
-- retry (a dropped connection on a slow line) gets the same answer and changes nothing again.
-- Written in the same transaction as the request's own writes.
CREATE TABLE platform.idempotency_keys (
  school_id     uuid NOT NULL REFERENCES platform.schools (id),
  key           text NOT NULL CHECK (length(key) BETWEEN 1 AND 200),
  route         text NOT NULL,
  request_hash  bytea NOT NULL,
  status        integer NOT NULL,
  response      jsonb NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  created_by    uuid DEFAULT platform.current_user_id(),
  PRIMARY KEY (school_id, key)
);
ALTER TABLE platform.idempotency_keys ENABLE ROW LEVEL SECURITY;
ALTER TABLE platform.idempotency_keys FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON platform.idempotency_keys TO oneclass_app
  USING (school_id = ANY (platform.current_school_ids()))
  WITH CHECK (school_id = ANY (platform.current_school_ids()));
GRANT SELECT, INSERT, UPDATE (status, response) ON platform.idempotency_keys TO oneclass_app;
