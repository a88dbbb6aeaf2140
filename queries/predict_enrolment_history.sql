-- The history enrolment projections start from: learners enrolled on each school year's census
-- day (1 March) by province, district and grade; and each district's four-year-olds by year (the
-- next year's entrants to ECD A), as `grade` 'POPULATION_4'.
SELECT s.province, s.district, e.academic_year AS year, e.grade,
       CAST(count(DISTINCT e.learner_id) AS DOUBLE) AS learners
FROM silver.sis.enrolments e
JOIN silver.platform.schools s ON s.id = e.school_id
WHERE e.start_date <= make_date(e.academic_year, 3, 1)
  AND (e.end_date IS NULL OR e.end_date >= make_date(e.academic_year, 3, 1))
GROUP BY s.province, s.district, e.academic_year, e.grade
UNION ALL
SELECT d.province, p.district, p.year, 'POPULATION_4' AS grade,
       CAST(sum(p.population) AS DOUBLE) AS learners
FROM silver.ref.population p
JOIN (SELECT DISTINCT province, district FROM silver.platform.schools) d
  ON d.district = p.district
WHERE p.age = 4
GROUP BY d.province, p.district, p.year
