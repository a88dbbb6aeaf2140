-- CTEs, a per-learner aggregate and a ranking: in each district, the three schools with the
-- largest share of learners absent on 10 % or more of their marked days in term 3.
WITH per_learner AS (
  SELECT m.school_id, m.learner_id,
         count(*) AS marked,
         sum(CASE WHEN m.status IN ('present', 'late') THEN 0 ELSE 1 END) AS absent
  FROM daily_marks m
  CROSS JOIN terms t
  WHERE t.academic_year = 2026 AND t.term = 3
    AND m.date BETWEEN t.start_date AND t.end_date
  GROUP BY m.school_id, m.learner_id
),
per_school AS (
  SELECT s.province, s.district, s.emis_code,
         count(*) AS learners,
         sum(CASE WHEN 10 * p.absent >= p.marked THEN 1 ELSE 0 END) AS chronic
  FROM per_learner p
  JOIN schools s ON s.id = p.school_id
  GROUP BY s.province, s.district, s.emis_code
),
ranked AS (
  SELECT province, district, emis_code, learners, chronic,
         rank() OVER (PARTITION BY district
                      ORDER BY CAST(chronic AS DOUBLE) / CAST(learners AS DOUBLE) DESC, emis_code)
           AS place
  FROM per_school
)
SELECT province, district, emis_code, learners, chronic, place
FROM ranked
WHERE place <= 3
ORDER BY province, district, place
