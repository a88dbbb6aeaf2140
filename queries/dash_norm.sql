-- Every national, province, district and school figure of one indicator in one year (both
-- sexes, all grades), with the learners behind it as the indicator listing counts them, for the
-- schools furthest from their area's figure and a school beside its district and the nation:
-- the page works out which figures the listings above them hide, and leaves those out.
-- $1 indicator code; $2 year, or NULL for the latest it has.
WITH chosen AS (
  SELECT coalesce($2, max(year)) AS year FROM gold.indicators.values WHERE indicator = $1
),
figures AS (
  SELECT v.scope_level, v.scope_code, v.value
  FROM gold.indicators.values v JOIN chosen c ON v.year = c.year
  WHERE v.indicator = $1 AND v.grade IS NULL AND v.sex = 'T'
    AND v.scope_level IN ('national', 'province', 'district', 'school')
),
learner_base AS (
  SELECT v.scope_level, v.scope_code,
         CASE WHEN v.indicator IN ('PTR', 'PQTR', 'GIR') OR v.indicator LIKE 'GER_%'
                   OR v.indicator LIKE 'NER_%'
              THEN v.numerator ELSE v.denominator END AS learners
  FROM gold.indicators.values v JOIN chosen c ON v.year = c.year
  WHERE v.grade IS NULL AND v.sex = 'T'
    AND v.indicator = CASE WHEN $1 = 'ATTENDANCE_RATE' THEN 'CHRONIC_ABSENCE_RATE'
                           WHEN $1 LIKE 'GPI_%' THEN substr($1, 5)
                           WHEN $1 = 'SURVIVAL_G7' THEN 'PROMOTION_RATE' ELSE $1 END
),
districts AS (SELECT DISTINCT province, district FROM silver.platform.schools)
SELECT f.scope_level, f.scope_code, f.value, CAST(coalesce(b.learners, 0) AS BIGINT) AS learners,
       s.name AS school_name,
       CASE WHEN f.scope_level = 'school' THEN s.district
            WHEN f.scope_level = 'district' THEN f.scope_code END AS district,
       CASE WHEN f.scope_level = 'school' THEN s.province
            WHEN f.scope_level = 'district' THEN d.province ELSE f.scope_code END AS province
FROM figures f
LEFT JOIN learner_base b ON b.scope_level = f.scope_level AND b.scope_code = f.scope_code
LEFT JOIN silver.platform.schools s ON f.scope_level = 'school' AND s.id = f.scope_code
LEFT JOIN districts d ON f.scope_level = 'district' AND d.district = f.scope_code
