-- One place gives a school's next receipt number, for the office's payments and for Paynow's:
-- the counter's row is locked until the payment's transaction ends, so numbers run without gaps
-- (a payment that rolls back gives its number back). Run with the caller's rights: the API's
-- role reaches only its schools' counters.
CREATE FUNCTION finance.next_receipt(p_school uuid) RETURNS bigint
LANGUAGE sql AS $$
  INSERT INTO finance.receipt_numbers (school_id, last) VALUES (p_school, 1)
  ON CONFLICT (school_id) DO UPDATE SET last = finance.receipt_numbers.last + 1
  RETURNING last
$$;

-- Paynow's updates take their number there too.
CREATE OR REPLACE FUNCTION finance.apply_paynow_update(p_reference text, p_paynow_reference text,
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
  receipt := finance.next_receipt(t.school_id);
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
