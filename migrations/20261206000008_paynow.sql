-- Payments through Paynow: the transactions started, and the one place their status updates
-- are applied. An update arrives with no user (Paynow posts it), after the API has checked its
-- hash; the function below, run with the owner's rights, applies it to the transaction its
-- reference names, once: a second delivery of the same update finds the payment recorded.

CREATE TABLE finance.paynow_transactions (
  id                uuid PRIMARY KEY,
  school_id         uuid NOT NULL REFERENCES platform.schools (id),
  learner_id        uuid NOT NULL REFERENCES sis.learners (id),
  invoice_id        uuid NOT NULL REFERENCES finance.invoices (id),
  reference         text NOT NULL UNIQUE,
  currency          text NOT NULL CHECK (currency IN ('USD', 'ZWG')),
  amount            numeric(14,2) NOT NULL CHECK (amount > 0),
  poll_url          text NOT NULL,
  status            text NOT NULL DEFAULT 'Created',
  paynow_reference  text UNIQUE,
  payment_id        uuid UNIQUE REFERENCES finance.payments (id),
  created_at        timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now(),
  created_by        uuid DEFAULT platform.current_user_id(),
  updated_by        uuid DEFAULT platform.current_user_id()
);
CREATE INDEX paynow_transactions_learner ON finance.paynow_transactions (learner_id);
SELECT platform.make_school_owned('finance.paynow_transactions');

CREATE FUNCTION finance.apply_paynow_update(p_reference text, p_paynow_reference text,
    p_amount numeric, p_status text, p_paid boolean) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  t finance.paynow_transactions;
  receipt bigint;
  pay_id uuid;
BEGIN
  SELECT * INTO t FROM finance.paynow_transactions WHERE reference = p_reference FOR UPDATE;
  IF NOT FOUND THEN
    RETURN 'unknown';
  END IF;
  IF p_amount <> t.amount THEN
    RETURN 'mismatch';
  END IF;
  IF t.payment_id IS NOT NULL THEN
    RETURN 'already applied';
  END IF;
  UPDATE finance.paynow_transactions
     SET status = p_status, paynow_reference = p_paynow_reference
   WHERE id = t.id;
  IF NOT p_paid THEN
    RETURN 'recorded';
  END IF;
  INSERT INTO finance.receipt_numbers (school_id, last) VALUES (t.school_id, 1)
  ON CONFLICT (school_id) DO UPDATE SET last = finance.receipt_numbers.last + 1
  RETURNING last INTO receipt;
  pay_id := platform.uuid_v7();
  INSERT INTO finance.payments (id, school_id, learner_id, invoice_id, academic_year, term,
      currency, amount, exchange_rate, amount_applied, method, paid_on, reference,
      idempotency_key, receipt_number)
  SELECT pay_id, t.school_id, t.learner_id, t.invoice_id, i.academic_year, i.term, t.currency,
         t.amount, NULL, t.amount, 'paynow', current_date, p_paynow_reference,
         'paynow:' || p_paynow_reference, receipt
  FROM finance.invoices i WHERE i.id = t.invoice_id;
  UPDATE finance.paynow_transactions SET payment_id = pay_id WHERE id = t.id;
  RETURN 'applied';
END
$$;
REVOKE ALL ON FUNCTION finance.apply_paynow_update(text, text, numeric, text, boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION finance.apply_paynow_update(text, text, numeric, text, boolean) TO oneclass_app;

SELECT platform.comment_bookkeeping(ARRAY['finance.paynow_transactions']::regclass[]);
COMMENT ON TABLE finance.paynow_transactions IS 'Fee payments started through Paynow, and what Paynow last reported.';
COMMENT ON COLUMN finance.paynow_transactions.id IS 'The transaction''s id.';
COMMENT ON COLUMN finance.paynow_transactions.school_id IS 'The school.';
COMMENT ON COLUMN finance.paynow_transactions.learner_id IS 'The learner whose invoice is paid.';
COMMENT ON COLUMN finance.paynow_transactions.invoice_id IS 'The invoice paid.';
COMMENT ON COLUMN finance.paynow_transactions.reference IS 'Our reference, sent to Paynow.';
COMMENT ON COLUMN finance.paynow_transactions.currency IS 'The invoice''s currency.';
COMMENT ON COLUMN finance.paynow_transactions.amount IS 'The amount asked.';
COMMENT ON COLUMN finance.paynow_transactions.poll_url IS 'Where Paynow answers for the transaction.';
COMMENT ON COLUMN finance.paynow_transactions.status IS 'Paynow''s last status (Created, Paid, Cancelled, …).';
COMMENT ON COLUMN finance.paynow_transactions.paynow_reference IS 'Paynow''s reference.';
COMMENT ON COLUMN finance.paynow_transactions.payment_id IS 'The payment recorded when Paynow reported it paid.';
