-- A school's enrolment by grade and sex on the census date (gold.marts.enrolment). $1 school id;
-- $2 year, or NULL for the latest the school has.
WITH chosen AS (
  SELECT coalesce($2, max(year)) AS year FROM gold.marts.enrolment WHERE school_id = $1
)
SELECT e.year, e.grade, e.sex, CAST(sum(e.learners) AS BIGINT) AS learners
FROM gold.marts.enrolment e JOIN chosen c ON e.year = c.year
WHERE e.school_id = $1
GROUP BY e.year, e.grade, e.sex
