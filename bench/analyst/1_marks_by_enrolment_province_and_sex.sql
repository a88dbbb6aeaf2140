-- Four tables and a date range: term 3's marks, each joined to the learner's enrolment at that
-- school on that day (by learner, school and the enrolment's dates), then to the learner and the
-- school; marks, learners and attendance by province and sex.
SELECT s.province, l.sex,
       count(*) AS marks,
       count(DISTINCT m.learner_id) AS learners,
       sum(CASE WHEN m.status IN ('present', 'late') THEN 1 ELSE 0 END) AS attended
FROM daily_marks m
CROSS JOIN terms t
JOIN enrolments e ON e.learner_id = m.learner_id AND e.school_id = m.school_id
JOIN learners l ON l.id = m.learner_id
JOIN schools s ON s.id = m.school_id
WHERE t.academic_year = 2026 AND t.term = 3
  AND m.date BETWEEN t.start_date AND t.end_date
  AND m.date >= e.start_date AND (e.end_date IS NULL OR m.date <= e.end_date)
GROUP BY s.province, l.sex
ORDER BY s.province, l.sex
