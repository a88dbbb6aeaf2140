-- PTR and PQTR (INDICATORS.md): enrolment ÷ teachers in post, and ÷ trained teachers, per school
-- and year, both counted on the census date of the year (`census`, given by the gold builder).
-- Enrolment: learners enrolled that day (start on or before it, no end or an end after it).
-- Teachers: staff with post `teacher` in post that day; trained ones have qualification
-- `trained`. Sex T only (the ratios have no split by sex). A school without (trained) teachers
-- has a zero denominator, so its value is null (never 0 or infinity).
WITH enrolled AS (
  SELECT e.school_id, c.year, count(*) AS learners
  FROM silver.sis.enrolments e
  JOIN census c ON e.academic_year = c.year
  WHERE e.start_date <= c.day AND (e.end_date IS NULL OR e.end_date > c.day)
  GROUP BY e.school_id, c.year
),
teachers AS (
  SELECT s.school_id, c.year, count(*) AS teachers,
         sum(CASE WHEN s.qualification = 'trained' THEN 1 ELSE 0 END) AS trained
  FROM silver.staff.staff s
  CROSS JOIN census c
  WHERE s.post = 'teacher' AND s.start_date <= c.day AND (s.end_date IS NULL OR s.end_date > c.day)
  GROUP BY s.school_id, c.year
),
ratios AS (
  SELECT e.year, e.school_id, CAST(e.learners AS DOUBLE) AS learners,
         CAST(coalesce(t.teachers, 0) AS DOUBLE) AS teachers,
         CAST(coalesce(t.trained, 0) AS DOUBLE) AS trained
  FROM enrolled e
  LEFT JOIN teachers t ON t.school_id = e.school_id AND t.year = e.year
)
SELECT 'PTR' AS indicator, year, school_id, CAST(NULL AS VARCHAR) AS district,
       CAST(NULL AS VARCHAR) AS grade, 'T' AS sex,
       learners AS numerator, teachers AS denominator
FROM ratios
UNION ALL
SELECT 'PQTR' AS indicator, year, school_id, CAST(NULL AS VARCHAR) AS district,
       CAST(NULL AS VARCHAR) AS grade, 'T' AS sex,
       learners AS numerator, trained AS denominator
FROM ratios
