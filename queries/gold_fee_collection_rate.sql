-- FEE_COLLECTION_RATE (INDICATORS.md): paid (USD equivalent at the recorded rate) ÷ invoiced ×
-- 100, per school, year and sex of the learner invoiced, over the year's terms. Fees are quoted in
-- USD (ZIMBABWE.md): a payment's `amount_applied` is what it credited its invoice, in the
-- invoice's currency, converted at the payment's recorded rate when it was paid in ZiG; BEAM's
-- payments count like any other. An invoice in ZiG has no recorded USD rate: it is left out of
-- both sides. Amounts in US dollars; a year paid in advance can pass 100 %.
WITH invoiced AS (
  SELECT i.id, i.school_id, i.academic_year AS year, l.sex, CAST(i.amount AS DOUBLE) AS amount
  FROM silver.finance.invoices i
  JOIN silver.sis.learners l ON l.id = i.learner_id
  WHERE i.currency = 'USD'
),
paid AS (
  SELECT invoice_id, sum(CAST(amount_applied AS DOUBLE)) AS amount
  FROM silver.finance.payments GROUP BY invoice_id
)
SELECT 'FEE_COLLECTION_RATE' AS indicator, i.year, i.school_id, CAST(NULL AS VARCHAR) AS district,
       CAST(NULL AS VARCHAR) AS grade, i.sex,
       coalesce(sum(p.amount), 0.0) AS numerator, sum(i.amount) AS denominator
FROM invoiced i
LEFT JOIN paid p ON p.invoice_id = i.id
GROUP BY i.year, i.school_id, i.sex
