-- Chronic absence by province, term 3 of 2026: learners absent (any mark other than present or
-- late) on at least 10 % of the days they were marked. Compared in integers (10 × absent ≥
-- marked) so that no engine's rounding decides a learner on the boundary.
WITH per_learner AS (
  SELECT m.school_id, m.learner_id,
         count(*) AS marked,
         sum(CASE WHEN m.status IN ('present', 'late') THEN 0 ELSE 1 END) AS absent
  FROM daily_marks m
  CROSS JOIN terms t
  WHERE t.academic_year = 2026 AND t.term = 3
    AND m.date BETWEEN t.start_date AND t.end_date
  GROUP BY m.school_id, m.learner_id
)
SELECT s.province,
       count(*) AS learners,
       sum(CASE WHEN 10 * p.absent >= p.marked THEN 1 ELSE 0 END) AS chronically_absent,
       100.0 * CAST(sum(CASE WHEN 10 * p.absent >= p.marked THEN 1 ELSE 0 END) AS DOUBLE)
         / CAST(count(*) AS DOUBLE) AS chronic_rate
FROM per_learner p
JOIN schools s ON s.id = p.school_id
GROUP BY s.province
ORDER BY s.province
