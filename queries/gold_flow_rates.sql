-- REPETITION_RATE, PROMOTION_RATE and DROPOUT_RATE of grade g, and TRANSITION_RATE from G7 to
-- F1 (INDICATORS.md), for year t, from enrolment on the census dates of t and t+1 (`census`,
-- given by the gold builder); a year t has rows once t+1 has enrolment.
--   repetition g = repeaters in g in t+1 ÷ enrolment in g in t
--   promotion g  = (enrolment in g+1 in t+1 − repeaters in g+1 in t+1) ÷ enrolment in g in t
--   dropout g    = 100 − promotion − repetition, i.e. (enrolment in g in t − promoted − repeaters)
--                  ÷ enrolment in g in t (the reconstructed cohort)
--   transition   = new entrants to F1 in t+1 ÷ (G7 enrolment in t − G7 repeaters in t+1)
-- Learners move between schools (G7 to F1 always does), so the two years' counts are given as
-- separate rows of each school, each to its own side: they meet in the sums of the district and
-- above, and a school's own rate counts only its own learners. Rows per grade; the builder adds
-- the total over grades and sexes.
WITH grades AS (
  SELECT * FROM (VALUES ('ECD_A', 'ECD_B'), ('ECD_B', 'G1'), ('G1', 'G2'), ('G2', 'G3'),
    ('G3', 'G4'), ('G4', 'G5'), ('G5', 'G6'), ('G6', 'G7'), ('G7', 'F1'), ('F1', 'F2'),
    ('F2', 'F3'), ('F3', 'F4'), ('F4', 'F5'), ('F5', 'F6')) AS v(grade, next_grade)
),
counts AS (
  SELECT e.school_id, c.year, l.sex, e.grade, count(*) AS enrolled,
         sum(CASE WHEN e.entry_type = 'repeater' THEN 1 ELSE 0 END) AS repeaters,
         sum(CASE WHEN e.entry_type = 'new' THEN 1 ELSE 0 END) AS new_entrants
  FROM silver.sis.enrolments e
  JOIN census c ON e.academic_year = c.year
  JOIN silver.sis.learners l ON l.id = e.learner_id
  WHERE e.start_date <= c.day AND (e.end_date IS NULL OR e.end_date > c.day)
  GROUP BY e.school_id, c.year, l.sex, e.grade
),
-- Each school's count is read once and given to every rate it feeds: `side` says whether it is
-- year t's enrolment in g (`this`), year t+1's in g itself (`same`) or in the grade after g
-- (`next`, labelled with g through `grades`).
sides AS (
  SELECT c.*, 'this' AS side, c.year AS t, c.grade AS g FROM counts c
  UNION ALL
  SELECT c.*, 'same' AS side, c.year - 1 AS t, c.grade AS g FROM counts c
  UNION ALL
  SELECT c.*, 'next' AS side, c.year - 1 AS t, g.grade AS g
  FROM counts c JOIN grades g ON g.next_grade = c.grade
),
rules AS (
  SELECT * FROM (VALUES
    ('REPETITION_RATE', 'this', 0, 1, 0, 0), ('REPETITION_RATE', 'same', 0, 0, 1, 0),
    ('PROMOTION_RATE', 'this', 0, 1, 0, 0), ('PROMOTION_RATE', 'next', 1, 0, -1, 0),
    ('DROPOUT_RATE', 'this', 1, 1, 0, 0), ('DROPOUT_RATE', 'same', 0, 0, -1, 0),
    ('DROPOUT_RATE', 'next', -1, 0, 1, 0)
  ) AS r(indicator, side, from_enrolled, to_denominator, from_repeaters, from_new)
),
flows AS (
  -- numerator: from_enrolled × enrolled + from_repeaters × repeaters (+ new entrants);
  -- denominator: to_denominator × enrolled.
  SELECT r.indicator, s.t AS year, s.school_id, s.g AS grade, s.sex,
         r.from_enrolled * s.enrolled + r.from_repeaters * s.repeaters AS numerator,
         r.to_denominator * s.enrolled AS denominator
  FROM sides s JOIN rules r ON r.side = s.side
  UNION ALL
  -- Transition: F1 new entrants of t+1 over G7 of t less its repeaters in t+1.
  SELECT 'TRANSITION_RATE', s.t, s.school_id, CAST(NULL AS VARCHAR), s.sex,
         CASE WHEN s.side = 'same' AND s.grade = 'F1' THEN s.new_entrants ELSE 0 END,
         CASE WHEN s.side = 'this' AND s.grade = 'G7' THEN s.enrolled
              WHEN s.side = 'same' AND s.grade = 'G7' THEN -s.repeaters ELSE 0 END
  FROM sides s WHERE s.side IN ('this', 'same') AND s.grade IN ('G7', 'F1')
),
-- A year t has rates once t+1 has enrolment (GROUP BY, not DISTINCT: DataFusion 55 kept every
-- row of a DISTINCT over a grouped CTE).
years_with_enrolment AS (
  SELECT academic_year AS year FROM silver.sis.enrolments GROUP BY academic_year
)
SELECT f.indicator, f.year, f.school_id, CAST(NULL AS VARCHAR) AS district, f.grade, f.sex,
       CAST(sum(f.numerator) AS DOUBLE) AS numerator, CAST(sum(f.denominator) AS DOUBLE) AS denominator
FROM flows f
JOIN years_with_enrolment n ON n.year = f.year + 1
JOIN years_with_enrolment m ON m.year = f.year
GROUP BY f.indicator, f.year, f.school_id, f.grade, f.sex
HAVING sum(f.numerator) <> 0 OR sum(f.denominator) <> 0
