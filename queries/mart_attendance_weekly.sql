-- Attendance by week and class: the daily marks of school days (days inside a term of
-- `ref.terms`), per school, class and week (weeks start on Monday): learners marked, marks,
-- marks attended (present or late) and absent (excused marks count among the marks only, as in
-- ATTENDANCE_RATE).
WITH marked AS (
  SELECT t.academic_year AS year, t.term, m.school_id, m.class_id, m.learner_id, m.status,
         CAST(date_trunc('week', m.date) AS DATE) AS week
  FROM silver.attendance.daily_marks m
  JOIN silver.ref.terms t ON m.date >= t.start_date AND m.date <= t.end_date
)
SELECT m.year, m.term, m.school_id, m.class_id, k.grade, k.name AS class_name, m.week,
       CAST(count(DISTINCT m.learner_id) AS BIGINT) AS learners,
       CAST(count(*) AS BIGINT) AS marks,
       CAST(sum(CASE WHEN m.status IN ('present', 'late') THEN 1 ELSE 0 END) AS BIGINT) AS attended,
       CAST(sum(CASE WHEN m.status = 'absent' THEN 1 ELSE 0 END) AS BIGINT) AS absent
FROM marked m
LEFT JOIN silver.academic.classes k ON k.id = m.class_id
GROUP BY m.year, m.term, m.school_id, m.class_id, k.grade, k.name, m.week
