-- Attendance rate (INDICATORS.md ATTENDANCE_RATE: present + late marks ÷ all marks × 100) in one
-- term, one row per group of schools.
--   $1 province or NULL, $2 district or NULL:
--   neither → one row per province; a province → per district of it; a district → per school
--   (`group_code` the school's id).
--   $3 academic year and $4 term, or NULL for the current term, chosen as in current_term.sql
--   (today in Harare, UTC+2; else the latest term that has started).
-- Groups without marks in the term have no row. `learners` counts distinct learners with marks,
-- for small-cell suppression by the caller.
WITH term AS (
  SELECT t.academic_year, t.term, t.start_date, t.end_date
  FROM silver.ref.terms t
  CROSS JOIN (SELECT CAST(now() + INTERVAL '2 hours' AS DATE) AS today) d
  WHERE ($3 IS NULL AND t.start_date <= d.today) OR (t.academic_year = $3 AND t.term = $4)
  ORDER BY CASE WHEN t.end_date >= d.today THEN 0 ELSE 1 END, t.start_date DESC
  LIMIT 1
),
area AS (
  SELECT
    s.id AS school_id,
    CASE WHEN $2 IS NOT NULL THEN s.id WHEN $1 IS NOT NULL THEN s.district ELSE s.province END AS group_code,
    CASE WHEN $2 IS NOT NULL THEN s.name WHEN $1 IS NOT NULL THEN s.district ELSE s.province END AS group_label
  FROM silver.platform.schools s
  WHERE ($1 IS NULL OR s.province = $1) AND ($2 IS NULL OR s.district = $2)
),
marks AS (
  SELECT a.group_code, a.group_label, m.learner_id,
         CASE WHEN m.status IN ('present', 'late') THEN 1 ELSE 0 END AS attended
  FROM silver.attendance.daily_marks m
  JOIN area a ON a.school_id = m.school_id
  JOIN term ON m.date BETWEEN term.start_date AND term.end_date
)
SELECT
  group_code,
  group_label,
  count(DISTINCT learner_id) AS learners,
  count(*) AS marks,
  sum(attended) AS present_or_late,
  100.0 * sum(attended) / count(*) AS rate
FROM marks
GROUP BY group_code, group_label
ORDER BY group_label, group_code
