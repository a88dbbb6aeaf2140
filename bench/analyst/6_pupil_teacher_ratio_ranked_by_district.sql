-- CTEs and a ranking: each district's pupil–teacher ratio in 2026 and its place in its province,
-- most crowded first.
WITH pupils AS (
  SELECT school_id, count(*) AS learners
  FROM enrolments
  WHERE academic_year = 2026 AND end_date IS NULL
  GROUP BY school_id
),
teachers AS (
  SELECT school_id, count(*) AS teachers
  FROM staff
  WHERE post IN ('teacher', 'ecd_teacher') AND end_date IS NULL
  GROUP BY school_id
),
by_district AS (
  SELECT s.province, s.district, sum(p.learners) AS learners, sum(t.teachers) AS teachers
  FROM schools s
  JOIN pupils p ON p.school_id = s.id
  JOIN teachers t ON t.school_id = s.id
  GROUP BY s.province, s.district
)
SELECT province, district, learners, teachers,
       CAST(learners AS DOUBLE) / CAST(teachers AS DOUBLE) AS ptr,
       rank() OVER (PARTITION BY province
                    ORDER BY CAST(learners AS DOUBLE) / CAST(teachers AS DOUBLE) DESC, district)
         AS place
FROM by_district
ORDER BY province, place
