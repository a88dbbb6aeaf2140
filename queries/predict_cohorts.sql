-- The school years the lake holds enrolments for, each with the start of its second term (a
-- past cohort is taken six weeks after it) and whether the year after it is in the lake (its
-- outcome is known).
WITH years AS (SELECT DISTINCT academic_year FROM silver.sis.enrolments),
latest AS (SELECT max(academic_year) AS y FROM years)
SELECT y.academic_year, min(t.start_date) AS second_term_start,
       y.academic_year < max(latest.y) AS outcome_known
FROM years y
CROSS JOIN latest
JOIN silver.ref.terms t ON t.academic_year = y.academic_year AND t.term = 2
GROUP BY y.academic_year
ORDER BY y.academic_year
