-- BEAM_COVERAGE (INDICATORS.md): learners with BEAM support ÷ enrolment × 100, per school, year
-- and sex. Enrolment on the census date (`census`, given by the gold builder); supported means
-- a BEAM payment (`finance.payments.method = 'beam'`) for the learner in that year, at any school.
WITH enrolled AS (
  SELECT e.school_id, c.year, e.learner_id, l.sex
  FROM silver.sis.enrolments e
  JOIN census c ON e.academic_year = c.year
  JOIN silver.sis.learners l ON l.id = e.learner_id
  WHERE e.start_date <= c.day AND (e.end_date IS NULL OR e.end_date > c.day)
),
supported AS (
  SELECT learner_id, academic_year AS year FROM silver.finance.payments
  WHERE method = 'beam' GROUP BY learner_id, academic_year
)
SELECT 'BEAM_COVERAGE' AS indicator, e.year, e.school_id, CAST(NULL AS VARCHAR) AS district,
       CAST(NULL AS VARCHAR) AS grade, e.sex,
       CAST(count(s.learner_id) AS DOUBLE) AS numerator, CAST(count(*) AS DOUBLE) AS denominator
FROM enrolled e
LEFT JOIN supported s ON s.learner_id = e.learner_id AND s.year = e.year
GROUP BY e.year, e.school_id, e.sex
