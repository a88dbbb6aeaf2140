-- Fee collection by term and method: per school, year, term and the invoice's currency, the fees
-- invoiced (`method` null) and the payments against them by method (cash, ecocash, bank,
-- paynow, beam), each with its entries, the learners they are for and the amount in the
-- invoice's currency (a payment's `amount_applied`, converted at its recorded rate when paid
-- in the other currency).
SELECT i.academic_year AS year, i.term, i.school_id, i.currency, CAST(NULL AS VARCHAR) AS method,
       CAST(count(*) AS BIGINT) AS entries, CAST(count(DISTINCT i.learner_id) AS BIGINT) AS learners,
       sum(CAST(i.amount AS DOUBLE)) AS amount
FROM silver.finance.invoices i
GROUP BY i.academic_year, i.term, i.school_id, i.currency
UNION ALL
SELECT i.academic_year AS year, i.term, i.school_id, i.currency, p.method,
       CAST(count(*) AS BIGINT) AS entries, CAST(count(DISTINCT p.learner_id) AS BIGINT) AS learners,
       sum(CAST(p.amount_applied AS DOUBLE)) AS amount
FROM silver.finance.payments p
JOIN silver.finance.invoices i ON i.id = p.invoice_id
GROUP BY i.academic_year, i.term, i.school_id, i.currency, p.method
