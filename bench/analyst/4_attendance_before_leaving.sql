-- A join by learner and a range of dates around each row: learners whose enrolment ended in
-- 2026, by province and reason, with their attendance in the 28 days before they left.
SELECT s.province, e.exit_reason,
       count(DISTINCT e.learner_id) AS leavers,
       count(*) AS marks,
       100.0 * CAST(sum(CASE WHEN m.status IN ('present', 'late') THEN 1 ELSE 0 END) AS DOUBLE)
         / CAST(count(*) AS DOUBLE) AS rate_before_leaving
FROM enrolments e
JOIN daily_marks m ON m.learner_id = e.learner_id AND m.school_id = e.school_id
JOIN schools s ON s.id = e.school_id
WHERE e.academic_year = 2026 AND e.end_date IS NOT NULL
  AND m.date BETWEEN e.end_date - INTERVAL '28 days' AND e.end_date
GROUP BY s.province, e.exit_reason
ORDER BY s.province, e.exit_reason
