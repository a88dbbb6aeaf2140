-- Analysts' saved SQL: their own, by name. Never published to the lake (not analytical data).
CREATE TABLE platform.saved_queries (
  id          uuid PRIMARY KEY,
  user_id     uuid NOT NULL REFERENCES platform.users (id) ON DELETE CASCADE,
  name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
  sql         text NOT NULL CHECK (length(sql) BETWEEN 1 AND 100000),
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  UNIQUE (user_id, name)
);
GRANT SELECT, INSERT, UPDATE, DELETE ON platform.saved_queries TO oneclass_app;
