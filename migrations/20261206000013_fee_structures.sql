-- Fees set once per grade, term and boarding status; invoices made from them for every enrolled
-- learner; corrections of an invoice as new entries; BEAM's bulk remittances split into one
-- payment per learner. One view gives every invoice's balance, so the office, the report and the
-- parents' portal count money the same way.

-- Boarding is a property of the year's enrolment (a learner may board one year and not the next).
ALTER TABLE sis.enrolments ADD COLUMN boarding boolean NOT NULL DEFAULT false;
COMMENT ON COLUMN sis.enrolments.boarding IS 'Whether the learner boards at the school this year (fees differ).';

CREATE TABLE finance.fee_structures (
  id             uuid PRIMARY KEY,
  school_id      uuid NOT NULL REFERENCES platform.schools (id),
  academic_year  integer NOT NULL CHECK (academic_year BETWEEN 2000 AND 2100),
  term           integer NOT NULL CHECK (term BETWEEN 1 AND 3),
  grade          text NOT NULL CHECK (grade IN ('ECD_A', 'ECD_B', 'G1', 'G2', 'G3', 'G4', 'G5',
                   'G6', 'G7', 'F1', 'F2', 'F3', 'F4', 'F5', 'F6')),
  boarding       boolean NOT NULL,
  currency       text NOT NULL CHECK (currency IN ('USD', 'ZWG')),
  amount         numeric(14,2) NOT NULL CHECK (amount >= 0),
  due_on         date NOT NULL,
  created_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now(),
  created_by     uuid DEFAULT platform.current_user_id(),
  updated_by     uuid DEFAULT platform.current_user_id(),
  UNIQUE (school_id, academic_year, term, grade, boarding)
);
SELECT platform.make_school_owned('finance.fee_structures');

-- One invoice per learner and term at each school: a learner who transfers in is invoiced by the
-- new school too (the old school's invoice stays the old school's, with what was paid on it).
ALTER TABLE finance.invoices DROP CONSTRAINT invoices_learner_id_academic_year_term_key;
ALTER TABLE finance.invoices ADD CONSTRAINT invoices_one_a_term_at_a_school
  UNIQUE (school_id, learner_id, academic_year, term);

-- Which structure an invoice was made from (null for invoices entered or imported by hand).
ALTER TABLE finance.invoices ADD COLUMN fee_structure_id uuid REFERENCES finance.fee_structures (id);

CREATE TABLE finance.invoice_corrections (
  id             uuid PRIMARY KEY,
  school_id      uuid NOT NULL REFERENCES platform.schools (id),
  learner_id     uuid NOT NULL REFERENCES sis.learners (id),
  invoice_id     uuid NOT NULL REFERENCES finance.invoices (id),
  amount         numeric(14,2) NOT NULL CHECK (amount <> 0),
  reason         text NOT NULL CHECK (length(reason) BETWEEN 1 AND 500),
  corrected_on   date NOT NULL,
  created_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now(),
  created_by     uuid DEFAULT platform.current_user_id(),
  updated_by     uuid DEFAULT platform.current_user_id()
);
CREATE INDEX invoice_corrections_invoice ON finance.invoice_corrections (invoice_id);
CREATE INDEX invoice_corrections_learner ON finance.invoice_corrections (learner_id);
SELECT platform.make_school_owned('finance.invoice_corrections');
CREATE POLICY parent_reads ON finance.invoice_corrections FOR SELECT TO oneclass_app
  USING (learner_id = ANY ((SELECT platform.current_children())::uuid[]));

CREATE TABLE finance.beam_remittances (
  id             uuid PRIMARY KEY,
  school_id      uuid NOT NULL REFERENCES platform.schools (id),
  reference      text NOT NULL CHECK (length(reference) BETWEEN 1 AND 100),
  academic_year  integer NOT NULL CHECK (academic_year BETWEEN 2000 AND 2100),
  term           integer NOT NULL CHECK (term BETWEEN 1 AND 3),
  currency       text NOT NULL CHECK (currency IN ('USD', 'ZWG')),
  total          numeric(14,2) NOT NULL CHECK (total > 0),
  exchange_rate  numeric(14,4) CHECK (exchange_rate IS NULL OR exchange_rate > 0),
  paid_on        date NOT NULL,
  created_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now(),
  created_by     uuid DEFAULT platform.current_user_id(),
  updated_by     uuid DEFAULT platform.current_user_id(),
  UNIQUE (school_id, reference)
);
SELECT platform.make_school_owned('finance.beam_remittances');
ALTER TABLE finance.payments ADD COLUMN remittance_id uuid REFERENCES finance.beam_remittances (id);
CREATE INDEX payments_remittance ON finance.payments (remittance_id) WHERE remittance_id IS NOT NULL;

-- The API adds entries; it never changes or removes one (fee structures may be changed: they
-- are the school's price list, and an invoice keeps its own amount).
REVOKE UPDATE, DELETE ON finance.invoice_corrections, finance.beam_remittances FROM oneclass_app;
REVOKE DELETE ON finance.fee_structures FROM oneclass_app;

-- Every invoice's balance: invoiced + corrections − paid + refunded, in the invoice's currency.
-- security_invoker: the reader's row-level security applies to every table underneath.
CREATE VIEW finance.invoice_balances WITH (security_invoker = true) AS
SELECT i.id AS invoice_id, i.school_id, i.learner_id, i.academic_year, i.term, i.currency,
       i.issued_on, i.due_on, i.amount AS invoiced,
       coalesce(c.corrected, 0)::numeric(14,2) AS corrected,
       coalesce(p.paid, 0)::numeric(14,2) AS paid,
       coalesce(r.refunded, 0)::numeric(14,2) AS refunded,
       (i.amount + coalesce(c.corrected, 0) - coalesce(p.paid, 0) + coalesce(r.refunded, 0))::numeric(14,2)
         AS balance
FROM finance.invoices i
LEFT JOIN LATERAL (SELECT sum(x.amount) AS corrected FROM finance.invoice_corrections x
                   WHERE x.invoice_id = i.id) c ON true
LEFT JOIN LATERAL (SELECT sum(x.amount_applied) AS paid FROM finance.payments x
                   WHERE x.invoice_id = i.id) p ON true
LEFT JOIN LATERAL (SELECT sum(x.amount_applied) AS refunded FROM finance.refunds x
                   JOIN finance.payments y ON y.id = x.payment_id
                   WHERE y.invoice_id = i.id) r ON true;
GRANT SELECT ON finance.invoice_balances TO oneclass_app;
COMMENT ON VIEW finance.invoice_balances IS 'Each invoice with what corrected, paid and refunded it, and what is owed (negative: in credit), in its currency.';

ALTER PUBLICATION oneclass_lake ADD TABLE finance.fee_structures, finance.invoice_corrections,
  finance.beam_remittances;

SELECT platform.comment_bookkeeping(ARRAY['finance.fee_structures', 'finance.invoice_corrections',
  'finance.beam_remittances']::regclass[]);
COMMENT ON TABLE finance.fee_structures IS 'A school''s fee for a grade, term and boarding status: what invoices are made from.';
COMMENT ON COLUMN finance.fee_structures.id IS 'The fee''s id.';
COMMENT ON COLUMN finance.fee_structures.school_id IS 'The school.';
COMMENT ON COLUMN finance.fee_structures.academic_year IS 'The school year.';
COMMENT ON COLUMN finance.fee_structures.term IS 'The term, 1 to 3.';
COMMENT ON COLUMN finance.fee_structures.grade IS 'The grade (ECD_A … F6).';
COMMENT ON COLUMN finance.fee_structures.boarding IS 'Whether the fee is for boarders.';
COMMENT ON COLUMN finance.fee_structures.currency IS 'USD or ZWG.';
COMMENT ON COLUMN finance.fee_structures.amount IS 'The fee for the term.';
COMMENT ON COLUMN finance.fee_structures.due_on IS 'When invoices made from it fall due.';
COMMENT ON COLUMN finance.invoices.fee_structure_id IS 'The fee the invoice was made from (null for invoices entered by hand or imported).';
COMMENT ON TABLE finance.invoice_corrections IS 'A correction of an invoice''s amount (a new entry, never an edit): positive adds to what is owed, negative takes from it.';
COMMENT ON COLUMN finance.invoice_corrections.id IS 'The correction''s id.';
COMMENT ON COLUMN finance.invoice_corrections.school_id IS 'The school.';
COMMENT ON COLUMN finance.invoice_corrections.learner_id IS 'The learner (pseudonymised for analysts).';
COMMENT ON COLUMN finance.invoice_corrections.invoice_id IS 'The invoice corrected.';
COMMENT ON COLUMN finance.invoice_corrections.amount IS 'In the invoice''s currency: added to what it asks (negative: taken off).';
COMMENT ON COLUMN finance.invoice_corrections.reason IS 'Why (free text).';
COMMENT ON COLUMN finance.invoice_corrections.corrected_on IS 'The day of the correction.';
COMMENT ON TABLE finance.beam_remittances IS 'A bulk payment from BEAM (the Basic Education Assistance Module) for several learners, split into one payment per learner.';
COMMENT ON COLUMN finance.beam_remittances.id IS 'The remittance''s id.';
COMMENT ON COLUMN finance.beam_remittances.school_id IS 'The school paid.';
COMMENT ON COLUMN finance.beam_remittances.reference IS 'BEAM''s reference for the remittance.';
COMMENT ON COLUMN finance.beam_remittances.academic_year IS 'The school year it pays for.';
COMMENT ON COLUMN finance.beam_remittances.term IS 'The term it pays for.';
COMMENT ON COLUMN finance.beam_remittances.currency IS 'USD or ZWG.';
COMMENT ON COLUMN finance.beam_remittances.total IS 'The amount received, the sum of its lines.';
COMMENT ON COLUMN finance.beam_remittances.exchange_rate IS 'ZiG per US dollar, where some invoices are in the other currency.';
COMMENT ON COLUMN finance.beam_remittances.paid_on IS 'When the money was received.';
COMMENT ON COLUMN finance.payments.remittance_id IS 'The BEAM remittance the payment is a line of, if any.';
