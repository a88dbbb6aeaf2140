-- The Postgres-wire SQL endpoint signs analysts in by SCRAM-SHA-256, which needs a salted
-- password the argon2 hash cannot give. Set beside the argon2 hash whenever a password is set;
-- an account without one cannot use the endpoint. platform.users is never published to the lake.
ALTER TABLE platform.users
  ADD COLUMN scram_salt            bytea,
  ADD COLUMN scram_iterations      integer,
  ADD COLUMN scram_salted_password bytea,
  ADD CONSTRAINT users_scram_complete CHECK (
    (scram_salt IS NULL) = (scram_iterations IS NULL)
    AND (scram_salt IS NULL) = (scram_salted_password IS NULL)
    AND (scram_iterations IS NULL OR scram_iterations >= 4096)
    AND (scram_salted_password IS NULL OR length(scram_salted_password) = 32));

-- Accounts made before this migration get their secret at their next sign-in over HTTP, the one
-- moment the server holds the password.
GRANT UPDATE (scram_salt, scram_iterations, scram_salted_password) ON platform.users
  TO oneclass_app;
