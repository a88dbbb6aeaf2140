-- The current school term: the term containing today's date in Harare (UTC+2 all year, no DST),
-- else the most recent term that has started (a holiday shows the term just ended). No row before
-- the first term starts. dash_attendance.sql chooses its term the same way: keep them in step.
SELECT t.academic_year, t.term, t.start_date, t.end_date
FROM silver.ref.terms t
CROSS JOIN (SELECT CAST(now() + INTERVAL '2 hours' AS DATE) AS today) d
WHERE t.start_date <= d.today
ORDER BY CASE WHEN t.end_date >= d.today THEN 0 ELSE 1 END, t.start_date DESC
LIMIT 1
