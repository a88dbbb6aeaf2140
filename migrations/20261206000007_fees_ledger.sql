-- Fees as a ledger. Invoices are what is owed, payments what was paid (with the rate of the day
-- when paid in another currency than the invoice's), refunds money given back: each a new row,
-- never an edit. Receipts are numbered per school, without gaps.

ALTER TABLE finance.payments ADD COLUMN receipt_number bigint;
CREATE UNIQUE INDEX payments_receipt ON finance.payments (school_id, receipt_number)
  WHERE receipt_number IS NOT NULL;

-- The last receipt number given at each school. Taken with a row lock in the payment's own
-- transaction, so a payment that rolls back gives its number back.
CREATE TABLE finance.receipt_numbers (
  school_id  uuid PRIMARY KEY REFERENCES platform.schools (id),
  last       bigint NOT NULL DEFAULT 0 CHECK (last >= 0)
);
ALTER TABLE finance.receipt_numbers ENABLE ROW LEVEL SECURITY;
ALTER TABLE finance.receipt_numbers FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON finance.receipt_numbers TO oneclass_app
  USING (school_id = ANY (platform.current_school_ids()))
  WITH CHECK (school_id = ANY (platform.current_school_ids()));
GRANT SELECT, INSERT, UPDATE ON finance.receipt_numbers TO oneclass_app;

CREATE TABLE finance.refunds (
  id               uuid PRIMARY KEY,
  school_id        uuid NOT NULL REFERENCES platform.schools (id),
  learner_id       uuid NOT NULL REFERENCES sis.learners (id),
  payment_id       uuid NOT NULL REFERENCES finance.payments (id),
  currency         text NOT NULL CHECK (currency IN ('USD', 'ZWG')),
  amount           numeric(14,2) NOT NULL CHECK (amount > 0),
  amount_applied   numeric(14,2) NOT NULL CHECK (amount_applied > 0),
  reason           text NOT NULL CHECK (length(reason) BETWEEN 1 AND 500),
  refunded_on      date NOT NULL,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  created_by       uuid DEFAULT platform.current_user_id(),
  updated_by       uuid DEFAULT platform.current_user_id()
);
CREATE INDEX refunds_payment ON finance.refunds (payment_id);
CREATE INDEX refunds_learner ON finance.refunds (learner_id);
SELECT platform.make_school_owned('finance.refunds');
CREATE INDEX IF NOT EXISTS payments_learner ON finance.payments (learner_id);
CREATE INDEX IF NOT EXISTS invoices_learner ON finance.invoices (learner_id);

-- The API adds entries; it never changes or removes one.
REVOKE UPDATE, DELETE ON finance.invoices, finance.payments, finance.refunds FROM oneclass_app;

ALTER PUBLICATION oneclass_lake ADD TABLE finance.refunds;

SELECT platform.comment_bookkeeping(ARRAY['finance.refunds']::regclass[]);
COMMENT ON COLUMN finance.payments.receipt_number IS 'The receipt''s number at the school (payments recorded through OneClass; null for imported history).';
COMMENT ON TABLE finance.receipt_numbers IS 'The last receipt number given at each school.';
COMMENT ON TABLE finance.refunds IS 'Money given back against a payment: a new entry, never an edit of the payment.';
COMMENT ON COLUMN finance.refunds.id IS 'The refund''s id.';
COMMENT ON COLUMN finance.refunds.school_id IS 'The school.';
COMMENT ON COLUMN finance.refunds.learner_id IS 'The learner (pseudonymised for analysts).';
COMMENT ON COLUMN finance.refunds.payment_id IS 'The payment refunded.';
COMMENT ON COLUMN finance.refunds.currency IS 'The payment''s currency, USD or ZWG.';
COMMENT ON COLUMN finance.refunds.amount IS 'The amount given back, in currency.';
COMMENT ON COLUMN finance.refunds.amount_applied IS 'The same in the invoice''s currency, at the payment''s rate.';
COMMENT ON COLUMN finance.refunds.reason IS 'Why (free text).';
COMMENT ON COLUMN finance.refunds.refunded_on IS 'When the money was given back.';
