-- GER, NER (per level) and GIR (INDICATORS.md), per school and district, year and sex.
-- Numerators are counted per school on the census date (`census`, given by the gold builder):
-- learners enrolled that day in the level's grades (GER, any age), of the level's official ages
-- (NER), new entrants to Grade 1 (GIR, any age: entry type `new`, or `promoted` from ECD B, which
-- is a first entry to G1 too; repeaters, transfers-in and re-entries are not new entrants). Denominators are the
-- district's projected population (`ref.population`) of the level's official ages, or aged 6
-- (GIR), given as district rows (no school), so they count once in the district and above, and a
-- school's own value is null. Ages are completed years on 1 January of the year. Levels:
-- PRIMARY G1–G7, ages 6–12; LOWER_SECONDARY F1–F4, 13–16; UPPER_SECONDARY F5–F6, 17–18.
WITH levels AS (
  SELECT * FROM (VALUES ('PRIMARY', 6, 12), ('LOWER_SECONDARY', 13, 16), ('UPPER_SECONDARY', 17, 18))
    AS v(level, first_age, last_age)
),
enrolled AS (
  SELECT e.school_id, c.year, l.sex, e.grade, e.entry_type,
         c.year - CAST(date_part('year', l.date_of_birth) AS INT)
           - CASE WHEN date_part('month', l.date_of_birth) = 1 AND date_part('day', l.date_of_birth) = 1
                  THEN 0 ELSE 1 END AS age,
         CASE WHEN e.grade IN ('G1', 'G2', 'G3', 'G4', 'G5', 'G6', 'G7') THEN 'PRIMARY'
              WHEN e.grade IN ('F1', 'F2', 'F3', 'F4') THEN 'LOWER_SECONDARY'
              WHEN e.grade IN ('F5', 'F6') THEN 'UPPER_SECONDARY' END AS level
  FROM silver.sis.enrolments e
  JOIN census c ON e.academic_year = c.year
  JOIN silver.sis.learners l ON l.id = e.learner_id
  WHERE e.start_date <= c.day AND (e.end_date IS NULL OR e.end_date > c.day)
),
population AS (
  SELECT p.year, p.district, p.sex, v.level, sum(p.population) AS people
  FROM silver.ref.population p
  JOIN census c ON c.year = p.year
  JOIN levels v ON p.age BETWEEN v.first_age AND v.last_age
  GROUP BY p.year, p.district, p.sex, v.level
),
aged_six AS (
  SELECT p.year, p.district, p.sex, sum(p.population) AS people
  FROM silver.ref.population p JOIN census c ON c.year = p.year
  WHERE p.age = 6
  GROUP BY p.year, p.district, p.sex
),
counts AS (
  SELECT 'GER_' || e.level AS indicator, e.year, e.school_id, CAST(NULL AS VARCHAR) AS district,
         e.sex, count(*) AS numerator, 0 AS denominator
  FROM enrolled e WHERE e.level IS NOT NULL
  GROUP BY e.level, e.year, e.school_id, e.sex
  UNION ALL
  SELECT 'NER_' || e.level, e.year, e.school_id, CAST(NULL AS VARCHAR), e.sex, count(*), 0
  FROM enrolled e JOIN levels v ON v.level = e.level
  WHERE e.age BETWEEN v.first_age AND v.last_age
  GROUP BY e.level, e.year, e.school_id, e.sex
  UNION ALL
  SELECT 'GIR', e.year, e.school_id, CAST(NULL AS VARCHAR), e.sex, count(*), 0
  FROM enrolled e WHERE e.grade = 'G1' AND e.entry_type IN ('new', 'promoted')
  GROUP BY e.year, e.school_id, e.sex
  UNION ALL
  SELECT 'GER_' || level, year, CAST(NULL AS VARCHAR), district, sex, 0, people FROM population
  UNION ALL
  SELECT 'NER_' || level, year, CAST(NULL AS VARCHAR), district, sex, 0, people FROM population
  UNION ALL
  SELECT 'GIR', year, CAST(NULL AS VARCHAR), district, sex, 0, people FROM aged_six
)
SELECT indicator, year, school_id, district, CAST(NULL AS VARCHAR) AS grade, sex,
       CAST(numerator AS DOUBLE) AS numerator, CAST(denominator AS DOUBLE) AS denominator
FROM counts
