-- Staffing by school: per year, from the PTR and PQTR figures of gold (built just before the
-- marts), the learners and teachers in post on the census date, the trained teachers, the
-- trained share and the two ratios (null without teachers).
SELECT p.year, p.scope_code AS school_id, CAST(p.numerator AS BIGINT) AS learners,
       CAST(p.denominator AS BIGINT) AS teachers, CAST(q.denominator AS BIGINT) AS trained_teachers,
       CASE WHEN p.denominator > 0 THEN q.denominator / p.denominator * 100 END AS trained_share,
       p.value AS ptr, q.value AS pqtr
FROM gold.indicators.values p
JOIN gold.indicators.values q
  ON q.indicator = 'PQTR' AND q.year = p.year AND q.scope_level = 'school'
 AND q.scope_code = p.scope_code AND q.sex = 'T' AND q.grade IS NULL
WHERE p.indicator = 'PTR' AND p.scope_level = 'school' AND p.sex = 'T' AND p.grade IS NULL
