-- Foundation: roles, schemas, tenancy helpers.
-- The API connects as oneclass_app (owns nothing, cannot bypass RLS); CDC reads as oneclass_cdc.
-- Roles are cluster-wide: several databases of one cluster may migrate at once, so a role that
-- another migration has just created is not an error.
DO $$
BEGIN
  BEGIN
    CREATE ROLE oneclass_app LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS;
  EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
  END;
  BEGIN
    CREATE ROLE oneclass_cdc LOGIN REPLICATION NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS;
  EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
  END;
END
$$;

CREATE SCHEMA platform;
CREATE SCHEMA ref;
CREATE SCHEMA sis;
CREATE SCHEMA academic;
CREATE SCHEMA attendance;
CREATE SCHEMA assessment;
CREATE SCHEMA finance;
CREATE SCHEMA staff;
CREATE SCHEMA comms;
CREATE SCHEMA privacy;
CREATE SCHEMA audit;

GRANT USAGE ON SCHEMA platform, ref, sis, academic, attendance, assessment, finance, staff, comms,
  privacy, audit TO oneclass_app, oneclass_cdc;

-- The schools the current request may touch, set per transaction by the API with
-- set_config('app.school_ids', '{uuid,...}', true). Empty when unset: no rows.
CREATE FUNCTION platform.current_school_ids() RETURNS uuid[]
LANGUAGE sql STABLE AS $$
  SELECT coalesce(nullif(current_setting('app.school_ids', true), ''), '{}')::uuid[]
$$;

CREATE FUNCTION platform.current_user_id() RETURNS uuid
LANGUAGE sql STABLE AS $$
  SELECT nullif(current_setting('app.user_id', true), '')::uuid
$$;

CREATE FUNCTION platform.current_app_role() RETURNS text
LANGUAGE sql STABLE AS $$
  SELECT coalesce(current_setting('app.role', true), '')
$$;

-- Keeps updated_at / updated_by true on every update of a school-owned row.
CREATE FUNCTION platform.touch() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  NEW.updated_at := now();
  NEW.updated_by := platform.current_user_id();
  RETURN NEW;
END
$$;

-- Makes a school-owned table tenant-scoped: RLS enabled and forced, the app role sees and
-- writes only rows of the schools in its session, the CDC role reads everything (snapshot).
CREATE FUNCTION platform.make_school_owned(tbl regclass) RETURNS void
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
END
$$;
