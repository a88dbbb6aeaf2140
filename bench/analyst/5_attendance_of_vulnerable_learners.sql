-- Learners' attributes and a date range: term 3's attendance of orphans and vulnerable children
-- beside the others, in rural and urban schools.
SELECT s.location, l.is_ovc,
       count(DISTINCT m.learner_id) AS learners,
       count(*) AS marks,
       100.0 * CAST(sum(CASE WHEN m.status IN ('present', 'late') THEN 1 ELSE 0 END) AS DOUBLE)
         / CAST(count(*) AS DOUBLE) AS rate
FROM daily_marks m
JOIN learners l ON l.id = m.learner_id
JOIN schools s ON s.id = m.school_id
CROSS JOIN terms t
WHERE t.academic_year = 2026 AND t.term = 3
  AND m.date BETWEEN t.start_date AND t.end_date
GROUP BY s.location, l.is_ovc
ORDER BY s.location, l.is_ovc
