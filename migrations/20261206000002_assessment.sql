-- Assessment: the learning areas of the Heritage-Based Curriculum per level, the ZIMSEC grading
-- scales as reference data, weights on school assessments (a term mark is their weighted mean),
-- and examination entries per candidate.

-- Learning areas by level (ZIMBABWE.md, Curriculum). Reference data, not code: a school's
-- assessments name one of these for its class's level.
CREATE TABLE ref.subjects (
  code   text NOT NULL CHECK (code ~ '^[A-Z]{2,6}$'),
  level  text NOT NULL CHECK (level IN ('primary', 'o_level', 'a_level')),
  name   text NOT NULL,
  PRIMARY KEY (code, level)
);
GRANT SELECT ON ref.subjects TO oneclass_app, oneclass_cdc;
INSERT INTO ref.subjects (code, level, name) VALUES
  ('ENG', 'primary', 'English'),
  ('MAT', 'primary', 'Mathematics'),
  ('SHO', 'primary', 'Shona'),
  ('NDE', 'primary', 'Ndebele'),
  ('SCI', 'primary', 'Science and Technology'),
  ('SOC', 'primary', 'Heritage–Social Studies'),
  ('PEA', 'primary', 'Physical Education and Arts'),
  ('AGR', 'primary', 'Agriculture'),
  ('ICT', 'primary', 'Information and Communication Technology'),
  ('ENG', 'o_level', 'English Language'),
  ('MAT', 'o_level', 'Mathematics'),
  ('SHO', 'o_level', 'Shona'),
  ('NDE', 'o_level', 'Ndebele'),
  ('SCI', 'o_level', 'Combined Science'),
  ('GEO', 'o_level', 'Geography'),
  ('HIS', 'o_level', 'History'),
  ('AGR', 'o_level', 'Agriculture'),
  ('ACC', 'o_level', 'Principles of Accounting'),
  ('HER', 'o_level', 'Heritage Studies'),
  ('CS', 'o_level', 'Computer Science'),
  ('MAT', 'a_level', 'Mathematics'),
  ('PHY', 'a_level', 'Physics'),
  ('CHE', 'a_level', 'Chemistry'),
  ('BIO', 'a_level', 'Biology'),
  ('HIS', 'a_level', 'History'),
  ('GEO', 'a_level', 'Geography'),
  ('ECO', 'a_level', 'Economics'),
  ('ACC', 'a_level', 'Accounting'),
  ('LIT', 'a_level', 'Literature in English');

-- The ZIMSEC scales: a percentage at or above `min_percent` earns `grade` (the highest that
-- applies); A level grades carry points. ZIMSEC does not publish its boundaries: these are the
-- ones schools commonly use for their own reports, kept here so a school or the ministry can
-- change them without a release.
CREATE TABLE ref.grade_boundaries (
  scale        text NOT NULL CHECK (scale IN ('G7', 'O', 'A')),
  grade        text NOT NULL,
  min_percent  numeric(5,2) NOT NULL CHECK (min_percent BETWEEN 0 AND 100),
  points       integer,
  passes       boolean NOT NULL,
  PRIMARY KEY (scale, grade),
  UNIQUE (scale, min_percent)
);
GRANT SELECT ON ref.grade_boundaries TO oneclass_app, oneclass_cdc;
INSERT INTO ref.grade_boundaries (scale, grade, min_percent, points, passes) VALUES
  ('G7', '1', 80, NULL, true), ('G7', '2', 72, NULL, true), ('G7', '3', 64, NULL, true),
  ('G7', '4', 56, NULL, true), ('G7', '5', 48, NULL, true), ('G7', '6', 40, NULL, true),
  ('G7', '7', 32, NULL, false), ('G7', '8', 24, NULL, false), ('G7', '9', 0, NULL, false),
  ('O', 'A', 75, NULL, true), ('O', 'B', 65, NULL, true), ('O', 'C', 50, NULL, true),
  ('O', 'D', 40, NULL, false), ('O', 'E', 30, NULL, false), ('O', 'U', 0, NULL, false),
  ('A', 'A', 75, 5, true), ('A', 'B', 65, 4, true), ('A', 'C', 55, 3, true),
  ('A', 'D', 45, 2, true), ('A', 'E', 35, 1, true), ('A', 'O', 25, 0, false),
  ('A', 'F', 0, 0, false);

-- A term mark is the weighted mean of the percentages of the assessments a learner sat.
ALTER TABLE assessment.assessments
  ADD COLUMN weight numeric(6,2) NOT NULL DEFAULT 1 CHECK (weight > 0);

-- ZIMSEC examination entries: a candidate, an examination session and the subjects entered.
CREATE TABLE assessment.exam_entries (
  id               uuid PRIMARY KEY,
  school_id        uuid NOT NULL REFERENCES platform.schools (id),
  learner_id       uuid NOT NULL REFERENCES sis.learners (id),
  academic_year    integer NOT NULL CHECK (academic_year BETWEEN 2000 AND 2100),
  exam             text NOT NULL CHECK (exam IN ('G7', 'O', 'A')),
  subject_code     text NOT NULL,
  candidate_number text NOT NULL CHECK (candidate_number ~ '^[0-9]{4,12}$'),
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  created_by       uuid DEFAULT platform.current_user_id(),
  updated_by       uuid DEFAULT platform.current_user_id(),
  UNIQUE (learner_id, academic_year, exam, subject_code)
);
CREATE UNIQUE INDEX exam_entries_candidate
  ON assessment.exam_entries (school_id, academic_year, exam, candidate_number, subject_code);
SELECT platform.make_school_owned('assessment.exam_entries');

ALTER PUBLICATION oneclass_lake ADD TABLE ref.subjects, ref.grade_boundaries,
  assessment.exam_entries;

COMMENT ON TABLE ref.subjects IS 'The learning areas of the Heritage-Based Curriculum, by level.';
COMMENT ON COLUMN ref.subjects.code IS 'The subject code used by assessments, results and examination entries (MAT, ENG, …).';
COMMENT ON COLUMN ref.subjects.level IS 'primary, o_level (Forms 1–4) or a_level (Forms 5–6).';
COMMENT ON COLUMN ref.subjects.name IS 'The learning area''s name.';
COMMENT ON TABLE ref.grade_boundaries IS 'The ZIMSEC grading scales: the lowest percentage that earns each grade.';
COMMENT ON COLUMN ref.grade_boundaries.scale IS 'G7 (units 1–9), O (O level A–U) or A (A level A–F).';
COMMENT ON COLUMN ref.grade_boundaries.grade IS 'The grade or unit.';
COMMENT ON COLUMN ref.grade_boundaries.min_percent IS 'A percentage at or above this earns the grade (the highest that applies).';
COMMENT ON COLUMN ref.grade_boundaries.points IS 'A level points (A 5 … E 1, O and F 0); null on the other scales.';
COMMENT ON COLUMN ref.grade_boundaries.passes IS 'Whether the grade is a pass.';
COMMENT ON COLUMN assessment.assessments.weight IS 'The assessment''s weight in the term mark (the weighted mean of the percentages of the assessments a learner sat).';
COMMENT ON TABLE assessment.exam_entries IS 'ZIMSEC examination entries: one row per candidate and subject entered.';
COMMENT ON COLUMN assessment.exam_entries.id IS 'The entry''s id.';
COMMENT ON COLUMN assessment.exam_entries.school_id IS 'The school entering the candidate.';
COMMENT ON COLUMN assessment.exam_entries.learner_id IS 'The candidate (for analysts a keyed pseudonym).';
COMMENT ON COLUMN assessment.exam_entries.academic_year IS 'The year of the examination session.';
COMMENT ON COLUMN assessment.exam_entries.exam IS 'G7, O or A.';
COMMENT ON COLUMN assessment.exam_entries.subject_code IS 'The subject entered (ref.subjects).';
COMMENT ON COLUMN assessment.exam_entries.candidate_number IS 'ZIMSEC''s candidate number (hidden from analysts: it identifies the candidate).';
COMMENT ON COLUMN assessment.exam_entries.created_at IS 'When the row was created in OneClass.';
COMMENT ON COLUMN assessment.exam_entries.updated_at IS 'When the row last changed in OneClass.';
COMMENT ON COLUMN assessment.exam_entries.created_by IS 'The account that created the row (null for imports and seeding).';
COMMENT ON COLUMN assessment.exam_entries.updated_by IS 'The account that last changed the row.';
