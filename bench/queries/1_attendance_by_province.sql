-- Attendance rate (present + late marks ÷ all marks × 100) by province, term 3 of 2026.
WITH marks AS (
  SELECT s.province, m.learner_id,
         CASE WHEN m.status IN ('present', 'late') THEN 1 ELSE 0 END AS attended
  FROM daily_marks m
  JOIN schools s ON s.id = m.school_id
  CROSS JOIN terms t
  WHERE t.academic_year = 2026 AND t.term = 3
    AND m.date BETWEEN t.start_date AND t.end_date
)
SELECT province,
       count(DISTINCT learner_id) AS learners,
       count(*) AS marks,
       sum(attended) AS present_or_late,
       100.0 * CAST(sum(attended) AS DOUBLE) / CAST(count(*) AS DOUBLE) AS rate
FROM marks
GROUP BY province
ORDER BY province
