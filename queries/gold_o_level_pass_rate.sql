-- O_LEVEL_PASS_RATE (INDICATORS.md, ZIMBABWE.md): candidates with five or more subjects at C or
-- better ÷ candidates × 100, per school (where the candidate sat), examination year and sex.
-- A candidate is a learner with at least one O-level result that year.
WITH candidates AS (
  SELECT r.school_id, r.academic_year AS year, r.learner_id,
         sum(CASE WHEN r.grade IN ('A', 'B', 'C') THEN 1 ELSE 0 END) AS passes
  FROM silver.assessment.exam_results r
  WHERE r.exam = 'O'
  GROUP BY r.school_id, r.academic_year, r.learner_id
)
SELECT 'O_LEVEL_PASS_RATE' AS indicator, c.year, c.school_id, CAST(NULL AS VARCHAR) AS district,
       CAST(NULL AS VARCHAR) AS grade, l.sex,
       CAST(sum(CASE WHEN c.passes >= 5 THEN 1 ELSE 0 END) AS DOUBLE) AS numerator,
       CAST(count(*) AS DOUBLE) AS denominator
FROM candidates c
JOIN silver.sis.learners l ON l.id = c.learner_id
GROUP BY c.year, c.school_id, l.sex
