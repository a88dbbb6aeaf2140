-- The school year of a day ($1): the year of the latest term begun on or before it, that year's
-- first day, and the first day of that term. The early-warning features read them as constants.
WITH term AS (
  SELECT academic_year, start_date FROM silver.ref.terms WHERE start_date <= $1
  ORDER BY start_date DESC LIMIT 1
)
SELECT term.academic_year, min(t.start_date) AS year_start, max(term.start_date) AS term_start
FROM term JOIN silver.ref.terms t ON t.academic_year = term.academic_year
GROUP BY term.academic_year
