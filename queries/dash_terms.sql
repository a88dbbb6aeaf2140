-- The terms a dashboard may show: those that have started (today in Harare, UTC+2), latest
-- first, for the term picker.
SELECT t.academic_year, t.term
FROM silver.ref.terms t
CROSS JOIN (SELECT CAST(now() + INTERVAL '2 hours' AS DATE) AS today) d
WHERE t.start_date <= d.today
ORDER BY t.start_date DESC
