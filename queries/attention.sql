-- The learners of one school who need attention on a day, by a rule anyone can check (the
-- baseline the early-warning model is measured against). $1 school id; $2 the day. A learner
-- enrolled at the school that day is listed when any of these holds, each reported with its
-- evidence:
-- - chronic absence: absent on 10 % or more of their marked school days in the term that holds
--   the day (or the last term before it), once they have 5 marks;
-- - falling marks: the mean of their term marks (every subject's mean percentage) in the latest
--   term they have results for is 10 points or more below the term before;
-- - over-age: two or more years above the official age of their grade (ECD A 4, ECD B 5, G1 6 …
--   G7 12, F1 13 … F6 18), in completed years on 1 January of their enrolment's year;
-- - arrears: an invoice of their school due 30 days or more before the day with nothing paid
--   against it (a part payment shows a family paying; nothing paid, one that may need help
--   such as BEAM), reported as the total of such invoices per currency. Fees never bar a
--   learner from anything; this only points a head to a family.
WITH term AS (
  SELECT start_date, end_date FROM silver.ref.terms WHERE start_date <= $2
  ORDER BY start_date DESC LIMIT 1
),
enrolled AS (
  SELECT e.learner_id, e.grade, e.class_id, e.academic_year,
         e.academic_year - CAST(date_part('year', l.date_of_birth) AS INT)
           - CASE WHEN date_part('month', l.date_of_birth) = 1 AND date_part('day', l.date_of_birth) = 1
                  THEN 0 ELSE 1 END AS age,
         CASE e.grade WHEN 'ECD_A' THEN 4 WHEN 'ECD_B' THEN 5 WHEN 'G1' THEN 6 WHEN 'G2' THEN 7
              WHEN 'G3' THEN 8 WHEN 'G4' THEN 9 WHEN 'G5' THEN 10 WHEN 'G6' THEN 11
              WHEN 'G7' THEN 12 WHEN 'F1' THEN 13 WHEN 'F2' THEN 14 WHEN 'F3' THEN 15
              WHEN 'F4' THEN 16 WHEN 'F5' THEN 17 WHEN 'F6' THEN 18 END AS official_age
  FROM silver.sis.enrolments e
  JOIN silver.sis.learners l ON l.id = e.learner_id
  WHERE e.school_id = $1 AND e.start_date <= $2 AND (e.end_date IS NULL OR e.end_date > $2)
),
absence AS (
  SELECT m.learner_id, CAST(count(*) AS BIGINT) AS marks,
         CAST(sum(CASE WHEN m.status = 'absent' THEN 1 ELSE 0 END) AS BIGINT) AS absent
  FROM silver.attendance.daily_marks m CROSS JOIN term t
  WHERE m.school_id = $1 AND m.date >= t.start_date AND m.date <= t.end_date AND m.date <= $2
  GROUP BY m.learner_id
),
subject_marks AS (
  SELECT r.learner_id, a.academic_year, a.term, a.subject_code,
         avg(CAST(r.score AS DOUBLE) / CAST(r.max_score AS DOUBLE) * 100) AS mark
  FROM silver.assessment.results r
  JOIN silver.assessment.assessments a ON a.id = r.assessment_id
  WHERE r.school_id = $1 AND a.held_on <= $2
  GROUP BY r.learner_id, a.academic_year, a.term, a.subject_code
),
term_marks AS (
  SELECT learner_id, academic_year, term, avg(mark) AS mark,
         row_number() OVER (PARTITION BY learner_id ORDER BY academic_year DESC, term DESC) AS back
  FROM subject_marks GROUP BY learner_id, academic_year, term
),
trend AS (
  SELECT learner_id, max(CASE WHEN back = 1 THEN mark END) AS mark_now,
         max(CASE WHEN back = 2 THEN mark END) AS mark_before
  FROM term_marks WHERE back <= 2 GROUP BY learner_id
),
paid AS (
  SELECT invoice_id, sum(CAST(amount_applied AS DOUBLE)) AS amount
  FROM silver.finance.payments WHERE school_id = $1 GROUP BY invoice_id
),
unpaid AS (
  SELECT i.learner_id, i.currency, CAST(i.amount AS DOUBLE) AS amount
  FROM silver.finance.invoices i LEFT JOIN paid p ON p.invoice_id = i.id
  WHERE i.school_id = $1 AND i.due_on <= $2 - INTERVAL '30 days'
    AND coalesce(p.amount, 0) = 0 AND i.amount > 0
),
arrears AS (
  SELECT learner_id,
         sum(CASE WHEN currency = 'USD' THEN amount ELSE 0 END) AS arrears_usd,
         sum(CASE WHEN currency = 'ZWG' THEN amount ELSE 0 END) AS arrears_zwg
  FROM unpaid GROUP BY learner_id
),
evidence AS (
  SELECT e.learner_id, e.grade, k.name AS class_name, e.age, e.official_age,
         coalesce(b.marks, 0) AS marks, coalesce(b.absent, 0) AS absent,
         t.mark_now, t.mark_before,
         coalesce(a.arrears_usd, 0) AS arrears_usd, coalesce(a.arrears_zwg, 0) AS arrears_zwg
  FROM enrolled e
  LEFT JOIN silver.academic.classes k ON k.id = e.class_id
  LEFT JOIN absence b ON b.learner_id = e.learner_id
  LEFT JOIN trend t ON t.learner_id = e.learner_id
  LEFT JOIN arrears a ON a.learner_id = e.learner_id
)
SELECT learner_id, grade, class_name, CAST(age AS BIGINT) AS age,
       CAST(official_age AS BIGINT) AS official_age, marks, absent, mark_now, mark_before,
       arrears_usd, arrears_zwg,
       marks >= 5 AND absent * 10 >= marks AS chronic_absence,
       coalesce(mark_before - mark_now >= 10, false) AS falling_marks,
       coalesce(age - official_age >= 2, false) AS over_age,
       arrears_usd > 0 OR arrears_zwg > 0 AS arrears
FROM evidence
WHERE (marks >= 5 AND absent * 10 >= marks)
   OR coalesce(mark_before - mark_now >= 10, false)
   OR coalesce(age - official_age >= 2, false)
   OR arrears_usd > 0 OR arrears_zwg > 0
