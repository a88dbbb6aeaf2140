-- A school term: $1 academic year and $2 term, or NULL for the current term: the term
-- containing today's date in Harare (UTC+2 all year, no DST), else the most recent term that has
-- started (a holiday shows the term just ended). No row before the first term starts, or for a
-- term the lake does not hold. dash_attendance.sql chooses its term the same way: keep them in
-- step.
SELECT t.academic_year, t.term, t.start_date, t.end_date
FROM silver.ref.terms t
CROSS JOIN (SELECT CAST(now() + INTERVAL '2 hours' AS DATE) AS today) d
WHERE ($1 IS NULL AND t.start_date <= d.today) OR (t.academic_year = $1 AND t.term = $2)
ORDER BY CASE WHEN t.end_date >= d.today THEN 0 ELSE 1 END, t.start_date DESC
LIMIT 1
