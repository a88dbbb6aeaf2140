-- Assessments and ZIMSEC results, fees and payments (BEAM included), earlier school years, and
-- the bookkeeping of a bulk seed.

-- Term dates of the two years before 2026, for history (--years). Reference data, not code:
-- the published calendars, rounded to the announced opening and closing days.
INSERT INTO ref.terms VALUES
  (2024, 1, '2024-01-09', '2024-04-04'),
  (2024, 2, '2024-05-07', '2024-08-08'),
  (2024, 3, '2024-09-10', '2024-12-05'),
  (2025, 1, '2025-01-14', '2025-04-03'),
  (2025, 2, '2025-05-06', '2025-08-07'),
  (2025, 3, '2025-09-09', '2025-12-04')
ON CONFLICT DO NOTHING;

-- A school-based assessment of one class in one learning area (e.g. the end-of-term test).
CREATE TABLE assessment.assessments (
  id             uuid PRIMARY KEY,
  school_id      uuid NOT NULL REFERENCES platform.schools (id),
  class_id       uuid NOT NULL REFERENCES academic.classes (id),
  academic_year  integer NOT NULL CHECK (academic_year BETWEEN 2000 AND 2100),
  term           integer NOT NULL CHECK (term BETWEEN 1 AND 3),
  subject_code   text NOT NULL,
  name           text NOT NULL,
  max_score      numeric(6,2) NOT NULL CHECK (max_score > 0),
  held_on        date NOT NULL,
  created_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now(),
  created_by     uuid DEFAULT platform.current_user_id(),
  updated_by     uuid DEFAULT platform.current_user_id()
);
CREATE INDEX assessments_class ON assessment.assessments (class_id, academic_year, term);
SELECT platform.make_school_owned('assessment.assessments');

CREATE TABLE assessment.results (
  id             uuid PRIMARY KEY,
  school_id      uuid NOT NULL REFERENCES platform.schools (id),
  assessment_id  uuid NOT NULL REFERENCES assessment.assessments (id) ON DELETE CASCADE,
  learner_id     uuid NOT NULL REFERENCES sis.learners (id),
  score          numeric(6,2) NOT NULL CHECK (score >= 0),
  max_score      numeric(6,2) NOT NULL CHECK (max_score > 0),
  created_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now(),
  created_by     uuid DEFAULT platform.current_user_id(),
  updated_by     uuid DEFAULT platform.current_user_id(),
  CHECK (score <= max_score),
  UNIQUE (assessment_id, learner_id)
);
CREATE INDEX results_learner ON assessment.results (learner_id);
SELECT platform.make_school_owned('assessment.results');

-- ZIMSEC grades: Grade 7 units 1 (best) to 9; O level A–E and U; A level A–E, O and F.
CREATE TABLE assessment.exam_results (
  id             uuid PRIMARY KEY,
  school_id      uuid NOT NULL REFERENCES platform.schools (id),
  learner_id     uuid NOT NULL REFERENCES sis.learners (id),
  academic_year  integer NOT NULL CHECK (academic_year BETWEEN 2000 AND 2100),
  exam           text NOT NULL CHECK (exam IN ('G7', 'O', 'A')),
  subject_code   text NOT NULL,
  grade          text NOT NULL,
  created_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now(),
  created_by     uuid DEFAULT platform.current_user_id(),
  updated_by     uuid DEFAULT platform.current_user_id(),
  CHECK (
    (exam = 'G7' AND grade IN ('1', '2', '3', '4', '5', '6', '7', '8', '9'))
    OR (exam = 'O' AND grade IN ('A', 'B', 'C', 'D', 'E', 'U'))
    OR (exam = 'A' AND grade IN ('A', 'B', 'C', 'D', 'E', 'O', 'F'))
  ),
  UNIQUE (learner_id, academic_year, exam, subject_code)
);
SELECT platform.make_school_owned('assessment.exam_results');

-- Fees are quoted in USD; one invoice per learner and term.
CREATE TABLE finance.invoices (
  id             uuid PRIMARY KEY,
  school_id      uuid NOT NULL REFERENCES platform.schools (id),
  learner_id     uuid NOT NULL REFERENCES sis.learners (id),
  academic_year  integer NOT NULL CHECK (academic_year BETWEEN 2000 AND 2100),
  term           integer NOT NULL CHECK (term BETWEEN 1 AND 3),
  currency       text NOT NULL CHECK (currency IN ('USD', 'ZWG')),
  amount         numeric(14,2) NOT NULL CHECK (amount >= 0),
  issued_on      date NOT NULL,
  due_on         date NOT NULL CHECK (due_on >= issued_on),
  created_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now(),
  created_by     uuid DEFAULT platform.current_user_id(),
  updated_by     uuid DEFAULT platform.current_user_id(),
  UNIQUE (learner_id, academic_year, term)
);
SELECT platform.make_school_owned('finance.invoices');

-- A payment against an invoice. `amount` is in `currency`; when that is not the invoice's
-- currency, `exchange_rate` (units of `currency` per invoice unit, on the day) converts it and
-- `amount_applied` is what the invoice was credited, in the invoice's currency.
CREATE TABLE finance.payments (
  id               uuid PRIMARY KEY,
  school_id        uuid NOT NULL REFERENCES platform.schools (id),
  learner_id       uuid NOT NULL REFERENCES sis.learners (id),
  invoice_id       uuid NOT NULL REFERENCES finance.invoices (id),
  academic_year    integer NOT NULL CHECK (academic_year BETWEEN 2000 AND 2100),
  term             integer NOT NULL CHECK (term BETWEEN 1 AND 3),
  currency         text NOT NULL CHECK (currency IN ('USD', 'ZWG')),
  amount           numeric(14,2) NOT NULL CHECK (amount > 0),
  exchange_rate    numeric(14,4) CHECK (exchange_rate IS NULL OR exchange_rate > 0),
  amount_applied   numeric(14,2) NOT NULL CHECK (amount_applied > 0),
  method           text NOT NULL CHECK (method IN ('cash', 'paynow', 'ecocash', 'bank', 'beam')),
  paid_on          date NOT NULL,
  reference        text,
  idempotency_key  text NOT NULL UNIQUE,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  created_by       uuid DEFAULT platform.current_user_id(),
  updated_by       uuid DEFAULT platform.current_user_id()
);
CREATE INDEX payments_invoice ON finance.payments (invoice_id);
SELECT platform.make_school_owned('finance.payments');

ALTER PUBLICATION oneclass_lake ADD TABLE
  assessment.assessments, assessment.results, assessment.exam_results,
  finance.invoices, finance.payments;

-- A bulk seed drops the indexes and constraints of the tables it fills, loads them over
-- several connections, and puts everything back. What it dropped is written here in the same
-- transaction as the drops, so that a seed interrupted at any point can be undone and retried.
CREATE TABLE platform.seed_state (
  singleton    boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  seed         bigint NOT NULL,
  started_at   timestamptz NOT NULL DEFAULT now(),
  finished_at  timestamptz
);
CREATE TABLE platform.seed_deferred (
  ord              integer PRIMARY KEY,
  kind             text NOT NULL CHECK (kind IN ('index', 'primary_key', 'unique', 'foreign_key')),
  schema_name      text NOT NULL,
  table_name       text NOT NULL,
  -- The index's name (indexes, primary keys, unique constraints) or the foreign key's.
  name             text NOT NULL,
  constraint_name  text,
  definition       text NOT NULL
);
