-- Where a district or a school is, so that a page's province, district and school parameters
-- are checked against the register rather than trusted: $1 district or NULL, $2 school id or
-- NULL. One row per (province, district) that matches.
SELECT province, district FROM silver.platform.schools
WHERE ($1 IS NULL OR district = $1) AND ($2 IS NULL OR id = $2)
GROUP BY province, district
