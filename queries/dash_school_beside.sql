-- A school beside its district and the nation: the school's figure of each indicator (both
-- sexes, all grades) in one year, with its district's and the national figure of the same year.
-- $1 school id; $2 the school's district; $3 year, or NULL for the latest the school has.
WITH chosen AS (
  SELECT coalesce($3, max(year)) AS year
  FROM gold.indicators.values WHERE scope_level = 'school' AND scope_code = $1
)
SELECT v.indicator, v.scope_level, v.year, v.numerator, v.denominator, v.value
FROM gold.indicators.values v JOIN chosen c ON v.year = c.year
WHERE v.sex = 'T' AND v.grade IS NULL
  AND ((v.scope_level = 'school' AND v.scope_code = $1)
    OR (v.scope_level = 'district' AND v.scope_code = $2)
    OR v.scope_level = 'national')
ORDER BY v.indicator, v.scope_level
