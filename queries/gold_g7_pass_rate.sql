-- G7_PASS_RATE (INDICATORS.md, ZIMBABWE.md): candidates passing ÷ candidates × 100, per school
-- (where the candidate sat), examination year and sex. A candidate is a learner with at least one
-- Grade 7 result that year. Their aggregate is the sum of the units (1 best, 9 fail) of their
-- best four subjects, each missing one counted as a 9, so the aggregate runs from 4 to 36 however
-- many subjects were sat; they pass when it is within the threshold `settings.g7_pass_aggregate`
-- (ONECLASS_G7_PASS_AGGREGATE, default 24: an average of unit 6, the last passing unit).
WITH ranked AS (
  SELECT r.school_id, r.academic_year AS year, r.learner_id, CAST(r.grade AS BIGINT) AS units,
         row_number() OVER (PARTITION BY r.school_id, r.academic_year, r.learner_id
                            ORDER BY CAST(r.grade AS BIGINT)) AS place
  FROM silver.assessment.exam_results r
  WHERE r.exam = 'G7'
),
candidates AS (
  SELECT school_id, year, learner_id,
         sum(CASE WHEN place <= 4 THEN units ELSE 0 END)
           + 9 * (4 - least(count(*), 4)) AS aggregate
  FROM ranked
  GROUP BY school_id, year, learner_id
)
SELECT 'G7_PASS_RATE' AS indicator, c.year, c.school_id, CAST(NULL AS VARCHAR) AS district,
       CAST(NULL AS VARCHAR) AS grade, l.sex,
       CAST(sum(CASE WHEN c.aggregate <= s.g7_pass_aggregate THEN 1 ELSE 0 END) AS DOUBLE)
         AS numerator,
       CAST(count(*) AS DOUBLE) AS denominator
FROM candidates c
JOIN silver.sis.learners l ON l.id = c.learner_id
CROSS JOIN settings s
GROUP BY c.year, c.school_id, l.sex
