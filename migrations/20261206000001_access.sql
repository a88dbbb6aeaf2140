-- Users and access: a person may hold different roles at several schools, sessions that can be
-- revoked, invitations and password resets by one-time link, an outbox for the messages that
-- carry the links, and an audit of every change made through the API.

-- A membership names the role held at the school. An account's own `role` is the role it
-- signs in with unless it asks for another it holds.
ALTER TABLE platform.memberships ADD COLUMN role text;
UPDATE platform.memberships m SET role = u.role FROM platform.users u WHERE u.id = m.user_id;
-- Memberships of accounts whose own role is not a school's (none are seeded) become teachers'
-- rather than stop the migration; an admin corrects them.
UPDATE platform.memberships SET role = 'teacher'
  WHERE role NOT IN ('school_head', 'deputy', 'teacher', 'bursar', 'registrar');
ALTER TABLE platform.memberships
  ALTER COLUMN role SET NOT NULL,
  ADD CONSTRAINT memberships_school_role
    CHECK (role IN ('school_head', 'deputy', 'teacher', 'bursar', 'registrar')),
  ADD COLUMN created_by uuid,
  DROP CONSTRAINT memberships_pkey,
  ADD PRIMARY KEY (user_id, school_id, role);
CREATE INDEX memberships_school ON platform.memberships (school_id, role);
-- Everyone's memberships are read at sign-in, before any scope; they are written only within
-- the schools of the request.
ALTER TABLE platform.memberships ENABLE ROW LEVEL SECURITY;
ALTER TABLE platform.memberships FORCE ROW LEVEL SECURITY;
CREATE POLICY read_all ON platform.memberships FOR SELECT TO oneclass_app USING (true);
CREATE POLICY add_in_scope ON platform.memberships FOR INSERT TO oneclass_app
  WITH CHECK (school_id = ANY (platform.current_school_ids()));
CREATE POLICY remove_in_scope ON platform.memberships FOR DELETE TO oneclass_app
  USING (school_id = ANY (platform.current_school_ids()));
GRANT INSERT, DELETE ON platform.memberships TO oneclass_app;

-- Where one-time links are sent. Both optional: an account without either gets its reset from
-- its school's head (a new invitation).
ALTER TABLE platform.users
  ADD COLUMN email text CHECK (email IS NULL OR email ~ '^[^@\s]+@[^@\s]+\.[^@\s]+$'),
  ADD COLUMN phone text CHECK (phone IS NULL OR phone ~ '^\+263[0-9]{9}$');
GRANT INSERT (id, username, password_hash, role, display_name, email, phone, created_at, updated_at)
  ON platform.users TO oneclass_app;
GRANT UPDATE (password_hash, scram_salt, scram_iterations, scram_salted_password)
  ON platform.users TO oneclass_app;

-- A sign-in. Tokens name their session; a request whose session is revoked or expired is
-- refused at once, whatever the token's own expiry says.
CREATE TABLE platform.sessions (
  id          uuid PRIMARY KEY,
  user_id     uuid NOT NULL REFERENCES platform.users (id) ON DELETE CASCADE,
  created_at  timestamptz NOT NULL DEFAULT now(),
  expires_at  timestamptz NOT NULL,
  revoked_at  timestamptz,
  revoked_by  uuid,
  user_agent  text CHECK (length(user_agent) <= 200)
);
CREATE INDEX sessions_user ON platform.sessions (user_id) WHERE revoked_at IS NULL;
GRANT SELECT, INSERT, UPDATE (revoked_at, revoked_by) ON platform.sessions TO oneclass_app;

-- An invitation to hold a role at a school, sent as a one-time link. Only the token's hash is
-- kept. Readable by the school's own staff, and by whoever holds the token (the accepting
-- request sets `app.invitation` to the token's hash).
CREATE TABLE platform.invitations (
  id           uuid PRIMARY KEY,
  school_id    uuid NOT NULL REFERENCES platform.schools (id),
  role         text NOT NULL CHECK (role IN ('school_head', 'deputy', 'teacher', 'bursar', 'registrar')),
  display_name text NOT NULL CHECK (length(display_name) BETWEEN 1 AND 100),
  email        text CHECK (email IS NULL OR email ~ '^[^@\s]+@[^@\s]+\.[^@\s]+$'),
  phone        text CHECK (phone IS NULL OR phone ~ '^\+263[0-9]{9}$'),
  token_hash   bytea NOT NULL UNIQUE,
  expires_at   timestamptz NOT NULL,
  accepted_at  timestamptz,
  accepted_by  uuid REFERENCES platform.users (id),
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now(),
  created_by   uuid DEFAULT platform.current_user_id(),
  updated_by   uuid DEFAULT platform.current_user_id(),
  CHECK (email IS NOT NULL OR phone IS NOT NULL)
);
ALTER TABLE platform.invitations ENABLE ROW LEVEL SECURITY;
ALTER TABLE platform.invitations FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON platform.invitations TO oneclass_app
  USING (school_id = ANY (platform.current_school_ids()))
  WITH CHECK (school_id = ANY (platform.current_school_ids()));
CREATE POLICY by_token ON platform.invitations TO oneclass_app
  USING (token_hash = decode(nullif(current_setting('app.invitation', true), ''), 'hex'));
GRANT SELECT, INSERT, UPDATE ON platform.invitations TO oneclass_app;
CREATE TRIGGER touch BEFORE UPDATE ON platform.invitations
  FOR EACH ROW EXECUTE FUNCTION platform.touch();

-- A password reset, sent as a one-time link `<id>.<secret>`. Wrong secrets count: a few and the
-- reset is void and the account locked as after failed sign-ins.
CREATE TABLE platform.password_resets (
  id           uuid PRIMARY KEY,
  user_id      uuid NOT NULL REFERENCES platform.users (id) ON DELETE CASCADE,
  token_hash   bytea NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  expires_at   timestamptz NOT NULL,
  used_at      timestamptz,
  failed_tries integer NOT NULL DEFAULT 0
);
CREATE INDEX password_resets_user ON platform.password_resets (user_id) WHERE used_at IS NULL;
GRANT SELECT, INSERT, UPDATE (used_at, failed_tries) ON platform.password_resets TO oneclass_app;

-- Messages waiting to be sent (email or SMS), written in the same transaction as what they
-- announce. The API may add to it but not read it back: the links inside are secrets.
CREATE TABLE comms.outbox (
  id          uuid PRIMARY KEY,
  channel     text NOT NULL CHECK (channel IN ('email', 'sms')),
  recipient   text NOT NULL,
  subject     text NOT NULL,
  body        text NOT NULL,
  kind        text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  sent_at     timestamptz,
  attempts    integer NOT NULL DEFAULT 0,
  last_error  text
);
CREATE INDEX outbox_pending ON comms.outbox (created_at) WHERE sent_at IS NULL;
GRANT INSERT ON comms.outbox TO oneclass_app;

-- The audit: readable by a school's heads for their school and by platform admins; nobody
-- through the API may change or delete a row.
ALTER TABLE audit.events
  ADD COLUMN role text,
  ADD COLUMN changes jsonb;
CREATE INDEX audit_events_school ON audit.events (school_id, id);
CREATE INDEX audit_events_entity ON audit.events (entity_id, id);
ALTER TABLE audit.events ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit.events FORCE ROW LEVEL SECURITY;
CREATE POLICY append ON audit.events FOR INSERT TO oneclass_app WITH CHECK (true);
CREATE POLICY heads_and_admins ON audit.events FOR SELECT TO oneclass_app
  USING (platform.current_app_role() = 'platform_admin'
         OR (platform.current_app_role() IN ('school_head', 'deputy')
             AND school_id = ANY (platform.current_school_ids())));
GRANT SELECT ON audit.events TO oneclass_app;

-- A UUID of version 7 (time first, then random), as the application makes them, so that audit
-- rows written by triggers page in time order like every other table's.
CREATE FUNCTION platform.uuid_v7() RETURNS uuid
LANGUAGE sql VOLATILE AS $$
  SELECT encode(set_bit(set_bit(overlay(uuid_send(gen_random_uuid()) PLACING
    substring(int8send(floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint) FROM 3)
    FROM 1 FOR 6), 52, 1), 53, 1), 'hex')::uuid
$$;

-- Who created, changed or deleted what: a row per row written by an API request (one that
-- names its user). Loads by operators (the seed, migrations) name none and are not recorded.
-- An update records the columns that changed, old and new.
CREATE FUNCTION audit.record_change() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  old_row jsonb := CASE WHEN TG_OP <> 'INSERT' THEN to_jsonb(OLD) END;
  new_row jsonb := CASE WHEN TG_OP <> 'DELETE' THEN to_jsonb(NEW) END;
  row_now jsonb := coalesce(new_row, old_row);
  diff jsonb;
BEGIN
  IF TG_OP = 'UPDATE' THEN
    SELECT jsonb_object_agg(n.key, jsonb_build_object('old', old_row -> n.key, 'new', n.value))
      INTO diff
      FROM jsonb_each(new_row) n
      WHERE n.key NOT IN ('updated_at', 'updated_by')
        AND (old_row -> n.key) IS DISTINCT FROM n.value;
    IF diff IS NULL THEN
      RETURN NULL;
    END IF;
  END IF;
  INSERT INTO audit.events (id, user_id, school_id, action, entity, entity_id, request_id, role,
                            changes)
  VALUES (
    platform.uuid_v7(), platform.current_user_id(), (row_now ->> 'school_id')::uuid,
    lower(TG_OP), TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME, (row_now ->> 'id')::uuid,
    nullif(current_setting('app.request_id', true), ''), platform.current_app_role(),
    CASE TG_OP WHEN 'UPDATE' THEN diff
               WHEN 'INSERT' THEN new_row - 'created_at' - 'updated_at' - 'created_by' - 'updated_by'
               ELSE NULL END);
  RETURN NULL;
END
$$;

CREATE FUNCTION audit.track(tbl regclass) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE format($t$CREATE TRIGGER audit_change AFTER INSERT OR UPDATE OR DELETE ON %s
      FOR EACH ROW WHEN (nullif(current_setting('app.user_id', true), '') IS NOT NULL)
      EXECUTE FUNCTION audit.record_change()$t$, tbl);
END
$$;

SELECT audit.track(t) FROM unnest(ARRAY[
  'sis.learners', 'sis.enrolments', 'academic.classes', 'academic.class_teachers',
  'attendance.daily_marks', 'staff.staff', 'assessment.assessments', 'assessment.results',
  'assessment.exam_results', 'finance.invoices', 'finance.payments', 'platform.invitations',
  'platform.memberships'
]::regclass[]) AS t;

-- Tables made school-owned from now on are tracked too.
CREATE OR REPLACE FUNCTION platform.make_school_owned(tbl regclass) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', tbl);
  EXECUTE format('ALTER TABLE %s FORCE ROW LEVEL SECURITY', tbl);
  EXECUTE format($p$CREATE POLICY tenant_isolation ON %s TO oneclass_app
      USING (school_id = ANY (platform.current_school_ids()))
      WITH CHECK (school_id = ANY (platform.current_school_ids()))$p$, tbl);
  EXECUTE format('CREATE POLICY cdc_snapshot ON %s FOR SELECT TO oneclass_cdc USING (true)', tbl);
  EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON %s TO oneclass_app', tbl);
  EXECUTE format('GRANT SELECT ON %s TO oneclass_cdc', tbl);
  EXECUTE format('CREATE TRIGGER touch BEFORE UPDATE ON %s FOR EACH ROW EXECUTE FUNCTION platform.touch()', tbl);
  PERFORM audit.track(tbl);
END
$$;
