-- CHRONIC_ABSENCE_RATE (INDICATORS.md): learners absent on at least 10 % of their marked school
-- days ÷ learners with marks, per school, year and sex. Absent means the mark `absent`; `late` is
-- attendance and `excused` is neither. School days as in gold_attendance_rate.sql. A learner who
-- changed school within the year counts at each school with that school's marks.
WITH per_learner AS (
  SELECT t.academic_year AS year, m.school_id, m.learner_id,
         sum(CASE WHEN m.status = 'absent' THEN 1 ELSE 0 END) AS absent, count(*) AS marked
  FROM silver.attendance.daily_marks m
  JOIN silver.ref.terms t ON m.date BETWEEN t.start_date AND t.end_date
  GROUP BY t.academic_year, m.school_id, m.learner_id
)
SELECT 'CHRONIC_ABSENCE_RATE' AS indicator, p.year, p.school_id,
       CAST(NULL AS VARCHAR) AS district, CAST(NULL AS VARCHAR) AS grade, l.sex,
       CAST(sum(CASE WHEN 10 * p.absent >= p.marked THEN 1 ELSE 0 END) AS DOUBLE) AS numerator,
       CAST(count(*) AS DOUBLE) AS denominator
FROM per_learner p
JOIN silver.sis.learners l ON l.id = p.learner_id
GROUP BY p.year, p.school_id, l.sex
