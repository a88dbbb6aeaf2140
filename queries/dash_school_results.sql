-- A school's term marks by subject in bands of ten, in the latest term of a year that has
-- results (gold.marts.results), all classes and both sexes together. $1 school id; $2 year, or
-- NULL for the latest.
WITH chosen AS (
  SELECT year, max(term) AS term FROM gold.marts.results
  WHERE school_id = $1
    AND year = coalesce($2, (SELECT max(year) FROM gold.marts.results WHERE school_id = $1))
  GROUP BY year
)
SELECT r.year, r.term, r.subject_code, r.band, CAST(sum(r.learners) AS BIGINT) AS learners,
       sum(r.marks_total) AS marks_total
FROM gold.marts.results r JOIN chosen c ON r.year = c.year AND r.term = c.term
WHERE r.school_id = $1
GROUP BY r.year, r.term, r.subject_code, r.band
ORDER BY r.subject_code, r.band
