-- Window functions over a CTE: each province's attendance rate week by week this year, with the
-- mean of its last four weeks.
WITH weekly AS (
  SELECT s.province,
         CAST(date_trunc('week', m.date) AS DATE) AS week,
         count(*) AS marks,
         sum(CASE WHEN m.status IN ('present', 'late') THEN 1 ELSE 0 END) AS attended
  FROM daily_marks m
  JOIN schools s ON s.id = m.school_id
  WHERE m.date >= DATE '2026-01-01'
  GROUP BY s.province, CAST(date_trunc('week', m.date) AS DATE)
)
SELECT province, week, marks,
       100.0 * CAST(attended AS DOUBLE) / CAST(marks AS DOUBLE) AS rate,
       avg(100.0 * CAST(attended AS DOUBLE) / CAST(marks AS DOUBLE))
         OVER (PARTITION BY province ORDER BY week ROWS BETWEEN 3 PRECEDING AND CURRENT ROW)
         AS four_week_rate
FROM weekly
ORDER BY province, week
