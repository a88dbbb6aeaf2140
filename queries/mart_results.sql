-- Results by subject and grade: each learner's term mark in a subject (the mean percentage of
-- their results in the term's assessments of it, in their class), counted per school, class,
-- subject and sex in bands of ten (band 0: under 10 %, …, band 9: 90 % and over), with the sum
-- of the marks for means.
WITH marks AS (
  SELECT a.academic_year AS year, a.term, a.school_id, a.class_id, a.subject_code, r.learner_id,
         avg(CAST(r.score AS DOUBLE) / CAST(r.max_score AS DOUBLE) * 100) AS mark
  FROM silver.assessment.results r
  JOIN silver.assessment.assessments a ON a.id = r.assessment_id
  GROUP BY a.academic_year, a.term, a.school_id, a.class_id, a.subject_code, r.learner_id
),
banded AS (
  SELECT m.*, CAST(least(floor(m.mark / 10), 9) AS BIGINT) AS band FROM marks m
)
SELECT b.year, b.term, b.school_id, b.class_id, k.grade, k.name AS class_name, b.subject_code,
       l.sex, b.band, CAST(count(*) AS BIGINT) AS learners, sum(b.mark) AS marks_total
FROM banded b
JOIN silver.sis.learners l ON l.id = b.learner_id
LEFT JOIN silver.academic.classes k ON k.id = b.class_id
GROUP BY b.year, b.term, b.school_id, b.class_id, k.grade, k.name, b.subject_code, l.sex, b.band
