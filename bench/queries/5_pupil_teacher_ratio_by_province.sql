-- Pupil–teacher ratio by province, 2026: open enrolments ÷ staff in post as teacher or ECD
-- teacher (heads and deputies are not counted as teachers).
WITH pupils AS (
  SELECT s.province, count(*) AS learners
  FROM enrolments e
  JOIN schools s ON s.id = e.school_id
  WHERE e.academic_year = 2026 AND e.end_date IS NULL
  GROUP BY s.province
),
teachers AS (
  SELECT s.province, count(*) AS teachers
  FROM staff st
  JOIN schools s ON s.id = st.school_id
  WHERE st.post IN ('teacher', 'ecd_teacher') AND st.end_date IS NULL
  GROUP BY s.province
)
SELECT p.province,
       p.learners,
       t.teachers,
       CAST(p.learners AS DOUBLE) / CAST(t.teachers AS DOUBLE) AS pupils_per_teacher
FROM pupils p
JOIN teachers t ON t.province = p.province
ORDER BY p.province
