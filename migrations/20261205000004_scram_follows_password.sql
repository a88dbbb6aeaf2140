-- A SCRAM secret is derived from the password: when the password changes without a new secret,
-- the old one goes, so the old password no longer signs in over the Postgres wire.
CREATE FUNCTION platform.drop_stale_scram() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.password_hash IS DISTINCT FROM OLD.password_hash
     AND NEW.scram_salted_password IS NOT DISTINCT FROM OLD.scram_salted_password THEN
    NEW.scram_salt := NULL;
    NEW.scram_iterations := NULL;
    NEW.scram_salted_password := NULL;
  END IF;
  RETURN NEW;
END
$$;
CREATE TRIGGER users_scram_follows_password
  BEFORE UPDATE OF password_hash ON platform.users
  FOR EACH ROW EXECUTE FUNCTION platform.drop_stale_scram();
