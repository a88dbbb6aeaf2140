-- A school's attendance by class and week in the latest term of a year that has marks
-- (gold.marts.attendance_weekly). $1 school id; $2 year, or NULL for the latest.
WITH chosen AS (
  SELECT year, max(term) AS term FROM gold.marts.attendance_weekly
  WHERE school_id = $1
    AND year = coalesce($2, (SELECT max(year) FROM gold.marts.attendance_weekly WHERE school_id = $1))
  GROUP BY year
)
SELECT a.year, a.term, a.class_id, a.class_name, a.grade, CAST(a.week AS VARCHAR) AS week,
       a.learners, a.marks, a.attended
FROM gold.marts.attendance_weekly a JOIN chosen c ON a.year = c.year AND a.term = c.term
WHERE a.school_id = $1
