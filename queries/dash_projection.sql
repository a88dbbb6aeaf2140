-- Enrolment, actual and projected (gold/predict/projections), for one place by year and level of
-- schooling: $1 province or NULL, $2 district or NULL (neither: the nation). `primary` sums ECD A
-- to Grade 7, `secondary` Forms 1 to 6; `low` and `high` the interval of a projected year;
-- `teachers_needed` at the target pupil–teacher ratio it was projected with.
SELECT year, kind,
       sum(CASE WHEN grade IN ('F1', 'F2', 'F3', 'F4', 'F5', 'F6') THEN 0 ELSE learners END) AS "primary",
       sum(CASE WHEN grade IN ('F1', 'F2', 'F3', 'F4', 'F5', 'F6') THEN learners ELSE 0 END) AS secondary,
       sum(learners) AS learners, sum(low) AS low, sum(high) AS high,
       ceil(sum(learners) / max(target_ptr)) AS teachers_needed, max(target_ptr) AS target_ptr
FROM gold.predict.projections
WHERE (($1 IS NULL AND $2 IS NULL AND scope_level = 'national')
    OR ($1 IS NOT NULL AND $2 IS NULL AND scope_level = 'province' AND scope_code = $1)
    OR ($2 IS NOT NULL AND scope_level = 'district' AND scope_code = $2))
GROUP BY year, kind
ORDER BY year
