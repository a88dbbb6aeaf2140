-- Academic structure and staff records: streams of a grade, rooms, who teaches which subject to
-- which class for how many periods a week (what a timetable places), and the staff record's
-- name, employment number and account.

ALTER TABLE academic.classes ADD COLUMN stream text CHECK (stream IS NULL OR length(stream) BETWEEN 1 AND 40);

CREATE TABLE academic.rooms (
  id          uuid PRIMARY KEY,
  school_id   uuid NOT NULL REFERENCES platform.schools (id),
  name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 60),
  kind        text NOT NULL DEFAULT 'classroom'
                CHECK (kind IN ('classroom', 'laboratory', 'computer_lab', 'workshop', 'hall', 'field', 'other')),
  capacity    integer CHECK (capacity IS NULL OR capacity BETWEEN 1 AND 1000),
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  created_by  uuid DEFAULT platform.current_user_id(),
  updated_by  uuid DEFAULT platform.current_user_id(),
  UNIQUE (school_id, name)
);
SELECT platform.make_school_owned('academic.rooms');

-- A teacher teaching a subject to a class, and the lessons a week it takes.
CREATE TABLE academic.teaching (
  id                uuid PRIMARY KEY,
  school_id         uuid NOT NULL REFERENCES platform.schools (id),
  class_id          uuid NOT NULL REFERENCES academic.classes (id) ON DELETE CASCADE,
  subject_code      text NOT NULL,
  user_id           uuid NOT NULL REFERENCES platform.users (id),
  periods_per_week  integer NOT NULL CHECK (periods_per_week BETWEEN 1 AND 20),
  created_at        timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now(),
  created_by        uuid DEFAULT platform.current_user_id(),
  updated_by        uuid DEFAULT platform.current_user_id(),
  UNIQUE (class_id, subject_code)
);
CREATE INDEX teaching_user ON academic.teaching (user_id);
SELECT platform.make_school_owned('academic.teaching');

-- The staff record: who (name, the Public Service employment "EC number"), and the account they
-- sign in with, if any.
ALTER TABLE staff.staff
  ADD COLUMN full_name text CHECK (full_name IS NULL OR length(full_name) BETWEEN 1 AND 120),
  ADD COLUMN ec_number text CHECK (ec_number IS NULL OR ec_number ~ '^[0-9]{5,8}[A-Z]?$'),
  ADD COLUMN user_id uuid REFERENCES platform.users (id);
CREATE UNIQUE INDEX staff_ec_number ON staff.staff (ec_number) WHERE ec_number IS NOT NULL AND end_date IS NULL;

ALTER PUBLICATION oneclass_lake ADD TABLE academic.rooms, academic.teaching;

COMMENT ON COLUMN academic.classes.stream IS 'The stream of the grade the class is (A, Msasa, …), when the school has several.';
COMMENT ON TABLE academic.rooms IS 'A school''s rooms, for the timetable.';
COMMENT ON COLUMN academic.rooms.id IS 'The room''s id.';
COMMENT ON COLUMN academic.rooms.school_id IS 'The school.';
COMMENT ON COLUMN academic.rooms.name IS 'The room''s name at the school.';
COMMENT ON COLUMN academic.rooms.kind IS 'classroom, laboratory, computer_lab, workshop, hall, field or other.';
COMMENT ON COLUMN academic.rooms.capacity IS 'Seats, when known.';
COMMENT ON TABLE academic.teaching IS 'Who teaches which subject to which class, and the lessons a week.';
COMMENT ON COLUMN academic.teaching.id IS 'The assignment''s id.';
COMMENT ON COLUMN academic.teaching.school_id IS 'The school.';
COMMENT ON COLUMN academic.teaching.class_id IS 'The class.';
COMMENT ON COLUMN academic.teaching.subject_code IS 'The subject (ref.subjects).';
COMMENT ON COLUMN academic.teaching.user_id IS 'The teacher''s account.';
COMMENT ON COLUMN academic.teaching.periods_per_week IS 'Lessons a week.';
COMMENT ON COLUMN staff.staff.full_name IS 'The staff member''s name (hidden from analysts).';
COMMENT ON COLUMN staff.staff.ec_number IS 'The Public Service employment (EC) number (hidden from analysts).';
COMMENT ON COLUMN staff.staff.user_id IS 'The account the staff member signs in with, if any.';
DO $$
DECLARE col record;
BEGIN
  FOR col IN SELECT table_schema, table_name, column_name FROM information_schema.columns
             WHERE table_schema = 'academic' AND table_name IN ('rooms', 'teaching')
               AND column_name IN ('created_at', 'updated_at', 'created_by', 'updated_by')
  LOOP
    EXECUTE format('COMMENT ON COLUMN %I.%I.%I IS %L', col.table_schema, col.table_name,
      col.column_name, CASE col.column_name
        WHEN 'created_at' THEN 'When the row was created in OneClass.'
        WHEN 'updated_at' THEN 'When the row last changed in OneClass.'
        WHEN 'created_by' THEN 'The account that created the row (null for imports and seeding).'
        ELSE 'The account that last changed the row.' END);
  END LOOP;
END
$$;
