-- The early-warning model's features: one row per learner enrolled (at any school) on the day
-- $1, from what the lake holds before that day, and the outcome where the lake already knows it.
-- $2 the first day of that school year, $3 the school year, $4 the first day of the term that
-- holds $1 (the caller reads them from ref.terms: constants keep the large scans free of joins).
-- Written to gold/predict/features for each cohort the model learns from or scores. Unordered:
-- sorting the joined rows at 200 schools asked the memory pool for 326 GB (the sort's estimate
-- of rows that share string buffers), and nothing downstream needs an order.
--
-- Features (numbers; missing as NULL):
-- - attendance this school year before the day: days marked, share absent, days absent in the
--   14 days before the day (two school weeks, ten school days in term; a plain sum rather than a
--   window over each learner's latest marks, so the scan aggregates without sorting the year's
--   marks: the window's sort outgrew the memory limit at 200 schools), share absent in the 28
--   days before the day, and the change (recent − year);
-- - marks: the mean percentage this year and last year (every test), the latest term's mean
--   against the term before it (the change in points);
-- - over_age: completed years above the official age of the grade on 1 January;
-- - repeater / transfer_in: how this year's enrolment began;
-- - fees: the share of invoices due before the day left unpaid, and invoices due 30 days or more
--   before the day with nothing paid; beam (a BEAM payment this year or last); ovc; disability;
-- - the school's context: rural, secondary, and its learners' share absent this year.
-- Groups for the fairness report (not features): sex, province, location, beam. The term's
-- marks and absences (the transparent rule's chronic absence) are returned beside them.
-- Outcome: dropped out after the day within the year, or enrolled the next year in the same
-- grade as a repeater; NULL while the lake has no enrolment of the next year.
WITH enrolled AS (
  SELECT learner_id, school_id, academic_year, grade, entry_type, exit_reason FROM (
    SELECT e.learner_id, e.school_id, e.academic_year, e.grade, e.entry_type, e.exit_reason,
           row_number() OVER (PARTITION BY e.learner_id ORDER BY e.start_date DESC) AS n
    FROM silver.sis.enrolments e
    WHERE e.start_date <= $1 AND (e.end_date IS NULL OR e.end_date > $1)
  ) x WHERE n = 1
),
marks AS (
  SELECT m.learner_id, m.date, m.status
  FROM silver.attendance.daily_marks m
  WHERE m.date >= $2 AND m.date < $1
),
attendance AS (
  SELECT m.learner_id,
         CAST(count(*) AS DOUBLE) AS days_marked,
         avg(CASE WHEN m.status = 'absent' THEN 1.0 ELSE 0.0 END) AS absent_share,
         sum(CASE WHEN m.date >= $1 - INTERVAL '14 days' AND m.status = 'absent'
                  THEN 1.0 ELSE 0.0 END) AS absent_last_10,
         avg(CASE WHEN m.date >= $1 - INTERVAL '28 days'
                  THEN CASE WHEN m.status = 'absent' THEN 1.0 ELSE 0.0 END END)
           AS absent_share_4_weeks,
         sum(CASE WHEN m.date >= $4 THEN 1 ELSE 0 END) AS term_marks,
         sum(CASE WHEN m.date >= $4 AND m.status = 'absent' THEN 1 ELSE 0 END) AS term_absent
  FROM marks m
  GROUP BY m.learner_id
),
school_absence AS (
  SELECT e.school_id, avg(a.absent_share) AS school_absent_share
  FROM enrolled e JOIN attendance a ON a.learner_id = e.learner_id
  GROUP BY e.school_id
),
tests AS (
  SELECT r.learner_id, a.academic_year, a.term,
         CAST(r.score AS DOUBLE) / CAST(r.max_score AS DOUBLE) * 100 AS mark
  FROM silver.assessment.results r
  JOIN silver.assessment.assessments a ON a.id = r.assessment_id
  WHERE a.held_on < $1 AND a.academic_year >= $3 - 1
),
year_marks AS (
  SELECT t.learner_id,
         avg(CASE WHEN t.academic_year = $3 THEN t.mark END) AS mark_this_year,
         avg(CASE WHEN t.academic_year = $3 - 1 THEN t.mark END) AS mark_last_year
  FROM tests t GROUP BY t.learner_id
),
term_marks AS (
  SELECT learner_id, academic_year, term, avg(mark) AS mark,
         row_number() OVER (PARTITION BY learner_id ORDER BY academic_year DESC, term DESC) AS back
  FROM tests GROUP BY learner_id, academic_year, term
),
mark_trend AS (
  SELECT learner_id,
         max(CASE WHEN back = 1 THEN mark END) - max(CASE WHEN back = 2 THEN mark END)
           AS mark_change
  FROM term_marks WHERE back <= 2 GROUP BY learner_id
),
paid AS (
  SELECT p.invoice_id, sum(CAST(p.amount_applied AS DOUBLE)) AS amount,
         max(CASE WHEN p.method = 'beam' THEN 1 ELSE 0 END) AS beam
  FROM silver.finance.payments p
  WHERE p.paid_on < $1
  GROUP BY p.invoice_id
),
fees AS (
  SELECT i.learner_id,
         sum(CASE WHEN i.due_on < $1
                  THEN greatest(CAST(i.amount AS DOUBLE) - coalesce(p.amount, 0), 0) END)
           / sum(CASE WHEN i.due_on < $1 THEN CAST(i.amount AS DOUBLE) END) AS unpaid_share,
         sum(CASE WHEN i.due_on <= $1 - INTERVAL '30 days' AND coalesce(p.amount, 0) = 0
                   AND i.amount > 0 THEN 1.0 ELSE 0.0 END) AS invoices_unpaid,
         max(coalesce(p.beam, 0)) AS beam
  FROM silver.finance.invoices i
  LEFT JOIN paid p ON p.invoice_id = i.id
  WHERE i.academic_year >= $3 - 1 AND i.issued_on < $1
  GROUP BY i.learner_id
),
next_year AS (
  SELECT n.learner_id, max(CASE WHEN n.entry_type = 'repeater' THEN 1 ELSE 0 END) AS repeated
  FROM silver.sis.enrolments n
  WHERE n.academic_year = $3 + 1
  GROUP BY n.learner_id
),
known AS (
  SELECT max(academic_year) > $3 AS next_year_known
  FROM silver.sis.enrolments
)
SELECT e.academic_year, CAST($1 AS DATE) AS as_of, e.learner_id, e.school_id, e.grade,
       l.sex, s.province, s.district, s.location,
       CASE WHEN coalesce(f.beam, 0) = 1 THEN 'BEAM' ELSE 'not BEAM' END AS beam_group,
       CAST(CASE e.grade WHEN 'ECD_A' THEN -1 WHEN 'ECD_B' THEN 0 WHEN 'G1' THEN 1
            WHEN 'G2' THEN 2 WHEN 'G3' THEN 3 WHEN 'G4' THEN 4 WHEN 'G5' THEN 5 WHEN 'G6' THEN 6
            WHEN 'G7' THEN 7 WHEN 'F1' THEN 8 WHEN 'F2' THEN 9 WHEN 'F3' THEN 10
            WHEN 'F4' THEN 11 WHEN 'F5' THEN 12 WHEN 'F6' THEN 13 END AS DOUBLE) AS grade_level,
       CAST(e.academic_year - CAST(date_part('year', l.date_of_birth) AS INT)
         - CASE WHEN date_part('month', l.date_of_birth) = 1
                 AND date_part('day', l.date_of_birth) = 1 THEN 0 ELSE 1 END
         - CASE e.grade WHEN 'ECD_A' THEN 4 WHEN 'ECD_B' THEN 5 WHEN 'G1' THEN 6 WHEN 'G2' THEN 7
              WHEN 'G3' THEN 8 WHEN 'G4' THEN 9 WHEN 'G5' THEN 10 WHEN 'G6' THEN 11
              WHEN 'G7' THEN 12 WHEN 'F1' THEN 13 WHEN 'F2' THEN 14 WHEN 'F3' THEN 15
              WHEN 'F4' THEN 16 WHEN 'F5' THEN 17 WHEN 'F6' THEN 18 END AS DOUBLE) AS over_age,
       CASE WHEN e.entry_type = 'repeater' THEN 1.0 ELSE 0.0 END AS repeater,
       CASE WHEN e.entry_type = 'transfer_in' THEN 1.0 ELSE 0.0 END AS transfer_in,
       a.days_marked, a.absent_share, a.absent_last_10, a.absent_share_4_weeks,
       a.absent_share_4_weeks - a.absent_share AS absence_change,
       ym.mark_this_year, ym.mark_last_year, mt.mark_change,
       f.unpaid_share, coalesce(f.invoices_unpaid, 0) AS invoices_unpaid,
       CAST(coalesce(f.beam, 0) AS DOUBLE) AS beam,
       CASE WHEN l.is_ovc THEN 1.0 ELSE 0.0 END AS ovc,
       CASE WHEN l.disability IS NULL THEN 0.0 ELSE 1.0 END AS disability,
       CASE WHEN s.location = 'rural' THEN 1.0 ELSE 0.0 END AS rural,
       CASE WHEN s.level = 'primary' THEN 0.0 ELSE 1.0 END AS secondary_school,
       sa.school_absent_share,
       CASE WHEN NOT known.next_year_known THEN CAST(NULL AS DOUBLE)
            WHEN e.exit_reason = 'dropout' OR coalesce(ny.repeated, 0) = 1 THEN 1.0
            ELSE 0.0 END AS outcome,
       CASE WHEN e.exit_reason = 'dropout' THEN 1.0 ELSE 0.0 END AS dropped_out,
       coalesce(a.term_marks, 0) AS term_marks, coalesce(a.term_absent, 0) AS term_absent
FROM enrolled e
CROSS JOIN known
JOIN silver.sis.learners l ON l.id = e.learner_id
JOIN silver.platform.schools s ON s.id = e.school_id
LEFT JOIN attendance a ON a.learner_id = e.learner_id
LEFT JOIN school_absence sa ON sa.school_id = e.school_id
LEFT JOIN year_marks ym ON ym.learner_id = e.learner_id
LEFT JOIN mark_trend mt ON mt.learner_id = e.learner_id
LEFT JOIN fees f ON f.learner_id = e.learner_id
LEFT JOIN next_year ny ON ny.learner_id = e.learner_id
