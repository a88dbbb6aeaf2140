-- Enrolment by grade, age and sex: learners enrolled on the census date (`census`, given by the
-- gold builder), per year, school, grade, age (completed years on 1 January of the year, as in
-- the enrolment ratios) and sex.
WITH enrolled AS (
  SELECT c.year, e.school_id, e.grade, l.sex,
         c.year - CAST(date_part('year', l.date_of_birth) AS INT)
           - CASE WHEN date_part('month', l.date_of_birth) = 1 AND date_part('day', l.date_of_birth) = 1
                  THEN 0 ELSE 1 END AS age
  FROM silver.sis.enrolments e
  JOIN census c ON e.academic_year = c.year
  JOIN silver.sis.learners l ON l.id = e.learner_id
  WHERE e.start_date <= c.day AND (e.end_date IS NULL OR e.end_date > c.day)
)
SELECT year, school_id, grade, CAST(age AS INT) AS age, sex, CAST(count(*) AS BIGINT) AS learners
FROM enrolled
GROUP BY year, school_id, grade, age, sex
