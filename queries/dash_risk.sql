-- The early-warning model's latest scores summed over groups of schools (docs/model-card.md).
--   $1 province or NULL, $2 district or NULL: neither → one row per province; a province → per
--   district of it; a district → per school (`group_code` the school's id).
-- `learners` scored; `expected`: the sum of their scores (the model is calibrated, so the number
-- expected to drop out or repeat this year); `high`: learners whose chance is 30 % or more.
-- Counts are for small-cell suppression by the caller.
WITH area AS (
  SELECT
    s.id AS school_id,
    CASE WHEN $2 IS NOT NULL THEN s.id WHEN $1 IS NOT NULL THEN s.district ELSE s.province END AS group_code,
    CASE WHEN $2 IS NOT NULL THEN s.name WHEN $1 IS NOT NULL THEN s.district ELSE s.province END AS group_label
  FROM silver.platform.schools s
  WHERE ($1 IS NULL OR s.province = $1) AND ($2 IS NULL OR s.district = $2)
)
SELECT a.group_code, a.group_label,
       count(*) AS learners,
       sum(p.score) AS expected,
       sum(CASE WHEN p.score >= 0.3 THEN 1 ELSE 0 END) AS high,
       max(p.as_of) AS scored_on,
       max(p.model_version) AS model_version
FROM gold.predict.scores p
JOIN area a ON a.school_id = p.school_id
GROUP BY a.group_code, a.group_label
ORDER BY a.group_label, a.group_code
