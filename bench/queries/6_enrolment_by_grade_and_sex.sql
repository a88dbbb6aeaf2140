-- Open enrolments in 2026 by grade and the learner's sex.
SELECT e.grade, l.sex, count(*) AS learners
FROM enrolments e
JOIN learners l ON l.id = e.learner_id
WHERE e.academic_year = 2026 AND e.end_date IS NULL
GROUP BY e.grade, l.sex
ORDER BY e.grade, l.sex
