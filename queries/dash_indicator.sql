-- One gold indicator (gold.indicators.values: all grades) for one area and year, as the
-- indicator dashboard lists it. $1 indicator code; $2 year, or NULL for the latest the indicator
-- has; $3 province or NULL; $4 district or NULL; $5 school id or NULL. Rows: the area's own
-- figure (`is_total`, both sexes), then one per group inside it (the provinces of the nation, the
-- districts of a province, the schools of a district, a school's girls and boys: `F`, `M`). `learners` counts the learners behind a figure, for small-cell suppression:
-- the numerator of the ratios of learners to something else (PTR, PQTR, GER, NER, GIR), the
-- denominator of the rates among learners (the rest), the learners with marks for the
-- attendance rate, GER's for its gender parity index, the promotion rate's for survival.
WITH chosen AS (
  SELECT coalesce($2, max(year)) AS year FROM gold.indicators.values WHERE indicator = $1
),
figures AS (
  SELECT v.scope_level, v.scope_code, v.year, v.numerator, v.denominator, v.value, v.sex
  FROM gold.indicators.values v JOIN chosen c ON v.year = c.year
  WHERE v.indicator = $1 AND v.grade IS NULL
    AND (v.sex = 'T' OR (v.scope_level = 'school' AND v.scope_code = $5))
),
learner_base AS (
  SELECT v.scope_level, v.scope_code, v.sex AS base_sex,
         CASE WHEN v.indicator IN ('PTR', 'PQTR', 'GIR') OR v.indicator LIKE 'GER_%'
                   OR v.indicator LIKE 'NER_%'
              THEN v.numerator ELSE v.denominator END AS learners
  FROM gold.indicators.values v JOIN chosen c ON v.year = c.year
  WHERE v.grade IS NULL AND (v.sex = 'T' OR (v.scope_level = 'school' AND v.scope_code = $5))
    AND v.indicator = CASE WHEN $1 = 'ATTENDANCE_RATE' THEN 'CHRONIC_ABSENCE_RATE'
                           WHEN $1 LIKE 'GPI_%' THEN substr($1, 5)
                           WHEN $1 = 'SURVIVAL_G7' THEN 'PROMOTION_RATE' ELSE $1 END
),
districts AS (SELECT DISTINCT province, district FROM silver.platform.schools),
listed AS (
  SELECT f.*, true AS is_total, f.scope_code AS group_code, f.scope_code AS group_label
  FROM figures f
  WHERE f.sex = 'T' AND (
        ($3 IS NULL AND $4 IS NULL AND f.scope_level = 'national')
     OR ($3 IS NOT NULL AND $4 IS NULL AND f.scope_level = 'province' AND f.scope_code = $3)
     OR ($4 IS NOT NULL AND $5 IS NULL AND f.scope_level = 'district' AND f.scope_code = $4))
  UNION ALL
  SELECT f.*, true AS is_total, f.scope_code AS group_code, s.name AS group_label
  FROM figures f JOIN silver.platform.schools s ON s.id = f.scope_code
  WHERE f.sex = 'T' AND $5 IS NOT NULL AND f.scope_level = 'school' AND f.scope_code = $5
    AND s.district = $4
  UNION ALL
  SELECT f.*, false AS is_total, f.scope_code AS group_code, f.scope_code AS group_label
  FROM figures f
  WHERE f.sex = 'T' AND $3 IS NULL AND $4 IS NULL AND f.scope_level = 'province'
  UNION ALL
  SELECT f.*, false AS is_total, f.scope_code AS group_code, f.scope_code AS group_label
  FROM figures f JOIN districts d ON d.district = f.scope_code
  WHERE f.sex = 'T' AND $3 IS NOT NULL AND $4 IS NULL AND f.scope_level = 'district'
    AND d.province = $3
  UNION ALL
  SELECT f.*, false AS is_total, f.scope_code AS group_code, s.name AS group_label
  FROM figures f JOIN silver.platform.schools s ON s.id = f.scope_code
  WHERE f.sex = 'T' AND $4 IS NOT NULL AND $5 IS NULL AND f.scope_level = 'school'
    AND s.district = $4 AND ($3 IS NULL OR s.province = $3)
  UNION ALL
  SELECT f.*, false AS is_total, f.sex AS group_code, f.sex AS group_label
  FROM figures f
  WHERE f.sex <> 'T' AND $5 IS NOT NULL AND f.scope_level = 'school' AND f.scope_code = $5
)
SELECT l.group_code, l.group_label, l.year, l.numerator, l.denominator, l.value,
       CAST(coalesce(b.learners, 0) AS BIGINT) AS learners, l.is_total
FROM listed l
LEFT JOIN learner_base b
  ON b.scope_level = l.scope_level AND b.scope_code = l.scope_code AND b.base_sex = l.sex
ORDER BY is_total DESC, group_label, group_code
