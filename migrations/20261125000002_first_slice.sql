-- First slice: schools, users and memberships, learners, enrolments, classes, daily attendance.

CREATE TABLE platform.schools (
  id          uuid PRIMARY KEY,
  emis_code   text NOT NULL UNIQUE,
  name        text NOT NULL,
  province    text NOT NULL,
  district    text NOT NULL,
  level       text NOT NULL CHECK (level IN ('primary', 'secondary', 'combined')),
  ownership   text NOT NULL CHECK (ownership IN ('government', 'council', 'mission', 'private', 'trust')),
  location    text NOT NULL CHECK (location IN ('urban', 'rural')),
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  created_by  uuid DEFAULT platform.current_user_id(),
  updated_by  uuid DEFAULT platform.current_user_id()
);
-- Every signed-in user may read the school list; only a platform admin writes it.
ALTER TABLE platform.schools ENABLE ROW LEVEL SECURITY;
ALTER TABLE platform.schools FORCE ROW LEVEL SECURITY;
CREATE POLICY read_all ON platform.schools FOR SELECT TO oneclass_app USING (true);
CREATE POLICY admin_insert ON platform.schools FOR INSERT TO oneclass_app
  WITH CHECK (platform.current_app_role() = 'platform_admin');
CREATE POLICY admin_update ON platform.schools FOR UPDATE TO oneclass_app
  USING (platform.current_app_role() = 'platform_admin');
CREATE POLICY cdc_snapshot ON platform.schools FOR SELECT TO oneclass_cdc USING (true);
GRANT SELECT, INSERT, UPDATE ON platform.schools TO oneclass_app;
GRANT SELECT ON platform.schools TO oneclass_cdc;
CREATE TRIGGER touch BEFORE UPDATE ON platform.schools FOR EACH ROW EXECUTE FUNCTION platform.touch();

-- Accounts. Never published to the lake (password hashes stay here).
CREATE TABLE platform.users (
  id             uuid PRIMARY KEY,
  username       text NOT NULL UNIQUE,
  password_hash  text NOT NULL,
  role           text NOT NULL CHECK (role IN ('platform_admin', 'ministry', 'province_officer',
                   'district_officer', 'school_head', 'deputy', 'teacher', 'bursar', 'registrar',
                   'parent', 'analyst')),
  display_name   text NOT NULL,
  province       text,
  district       text,
  failed_logins  integer NOT NULL DEFAULT 0,
  locked_until   timestamptz,
  created_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now()
);
GRANT SELECT, UPDATE (failed_logins, locked_until, updated_at) ON platform.users TO oneclass_app;

CREATE TABLE platform.memberships (
  user_id    uuid NOT NULL REFERENCES platform.users (id) ON DELETE CASCADE,
  school_id  uuid NOT NULL REFERENCES platform.schools (id),
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (user_id, school_id)
);
GRANT SELECT ON platform.memberships TO oneclass_app;

-- Terms are reference data, not code (ZIMBABWE.md).
CREATE TABLE ref.terms (
  academic_year integer NOT NULL,
  term          integer NOT NULL CHECK (term BETWEEN 1 AND 3),
  start_date    date NOT NULL,
  end_date      date NOT NULL CHECK (end_date >= start_date),
  PRIMARY KEY (academic_year, term)
);
GRANT SELECT ON ref.terms TO oneclass_app, oneclass_cdc;
INSERT INTO ref.terms VALUES
  (2026, 1, '2026-01-13', '2026-04-01'),
  (2026, 2, '2026-05-12', '2026-08-06'),
  (2026, 3, '2026-09-08', '2026-12-08');

CREATE TABLE sis.learners (
  id              uuid PRIMARY KEY,
  school_id       uuid NOT NULL REFERENCES platform.schools (id),
  learner_number  text NOT NULL,
  first_name      text NOT NULL,
  last_name       text NOT NULL,
  sex             text NOT NULL CHECK (sex IN ('F', 'M')),
  date_of_birth   date NOT NULL,
  national_id     text,
  disability      text,
  is_ovc          boolean NOT NULL DEFAULT false,
  status          text NOT NULL DEFAULT 'active'
                    CHECK (status IN ('active', 'transferred', 'dropped_out', 'completed', 'deceased')),
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  created_by      uuid DEFAULT platform.current_user_id(),
  updated_by      uuid DEFAULT platform.current_user_id(),
  UNIQUE (school_id, learner_number)
);
SELECT platform.make_school_owned('sis.learners');

CREATE TABLE academic.classes (
  id             uuid PRIMARY KEY,
  school_id      uuid NOT NULL REFERENCES platform.schools (id),
  academic_year  integer NOT NULL,
  grade          text NOT NULL CHECK (grade IN ('ECD_A', 'ECD_B', 'G1', 'G2', 'G3', 'G4', 'G5',
                   'G6', 'G7', 'F1', 'F2', 'F3', 'F4', 'F5', 'F6')),
  name           text NOT NULL,
  created_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now(),
  created_by     uuid DEFAULT platform.current_user_id(),
  updated_by     uuid DEFAULT platform.current_user_id(),
  UNIQUE (school_id, academic_year, name)
);
SELECT platform.make_school_owned('academic.classes');

-- Which teacher (a user) teaches which class: the teacher's scope.
CREATE TABLE academic.class_teachers (
  class_id    uuid NOT NULL REFERENCES academic.classes (id) ON DELETE CASCADE,
  user_id     uuid NOT NULL REFERENCES platform.users (id),
  school_id   uuid NOT NULL REFERENCES platform.schools (id),
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  created_by  uuid DEFAULT platform.current_user_id(),
  updated_by  uuid DEFAULT platform.current_user_id(),
  PRIMARY KEY (class_id, user_id)
);
SELECT platform.make_school_owned('academic.class_teachers');

CREATE TABLE sis.enrolments (
  id             uuid PRIMARY KEY,
  school_id      uuid NOT NULL REFERENCES platform.schools (id),
  learner_id     uuid NOT NULL REFERENCES sis.learners (id),
  academic_year  integer NOT NULL CHECK (academic_year BETWEEN 2000 AND 2100),
  grade          text NOT NULL CHECK (grade IN ('ECD_A', 'ECD_B', 'G1', 'G2', 'G3', 'G4', 'G5',
                   'G6', 'G7', 'F1', 'F2', 'F3', 'F4', 'F5', 'F6')),
  class_id       uuid REFERENCES academic.classes (id),
  entry_type     text NOT NULL CHECK (entry_type IN ('new', 'repeater', 'transfer_in', 're_entry', 'promoted')),
  start_date     date NOT NULL,
  end_date       date CHECK (end_date IS NULL OR end_date >= start_date),
  exit_reason    text CHECK (exit_reason IN ('completed', 'transfer_out', 'dropout', 'deceased', 'other')),
  created_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now(),
  created_by     uuid DEFAULT platform.current_user_id(),
  updated_by     uuid DEFAULT platform.current_user_id(),
  CHECK ((end_date IS NULL) = (exit_reason IS NULL))
);
CREATE INDEX enrolments_learner ON sis.enrolments (learner_id, academic_year);
CREATE INDEX enrolments_class ON sis.enrolments (class_id) WHERE end_date IS NULL;
-- At most one open enrolment per learner and year.
CREATE UNIQUE INDEX enrolments_one_open ON sis.enrolments (learner_id, academic_year) WHERE end_date IS NULL;
SELECT platform.make_school_owned('sis.enrolments');

CREATE TABLE attendance.daily_marks (
  id          uuid PRIMARY KEY,
  school_id   uuid NOT NULL REFERENCES platform.schools (id),
  learner_id  uuid NOT NULL REFERENCES sis.learners (id),
  class_id    uuid REFERENCES academic.classes (id),
  date        date NOT NULL,
  status      text NOT NULL CHECK (status IN ('present', 'absent', 'late', 'excused')),
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  created_by  uuid DEFAULT platform.current_user_id(),
  updated_by  uuid DEFAULT platform.current_user_id(),
  UNIQUE (learner_id, date)
);
CREATE INDEX daily_marks_school_date ON attendance.daily_marks (school_id, date);
SELECT platform.make_school_owned('attendance.daily_marks');

-- Every read of a learner's record by staff is audited. Append-only for the app.
CREATE TABLE audit.events (
  id          uuid PRIMARY KEY,
  at          timestamptz NOT NULL DEFAULT now(),
  user_id     uuid,
  school_id   uuid,
  action      text NOT NULL,
  entity      text NOT NULL,
  entity_id   uuid,
  request_id  text
);
GRANT INSERT ON audit.events TO oneclass_app;

-- What flows to the lake. Listed table by table so that nothing private (users, audit) is
-- published by accident; each later migration adds its analytical tables here.
CREATE PUBLICATION oneclass_lake FOR TABLE
  platform.schools, ref.terms, sis.learners, sis.enrolments, academic.classes,
  academic.class_teachers, attendance.daily_marks;
