-- What each published table and column means, in PostgreSQL's own catalog (COMMENT ON), so that
-- the analysts' catalog (GET /api/v1/sql/catalog, /app/catalog) is generated from the schema.
-- A migration that adds an analytical column comments it too.

COMMENT ON TABLE platform.schools IS 'Schools registered on OneClass, one row per school.';
COMMENT ON COLUMN platform.schools.id IS 'The school''s id (joins every table''s school_id).';
COMMENT ON COLUMN platform.schools.emis_code IS 'The ministry''s EMIS code of the school.';
COMMENT ON COLUMN platform.schools.name IS 'The school''s name.';
COMMENT ON COLUMN platform.schools.province IS 'One of Zimbabwe''s ten provinces.';
COMMENT ON COLUMN platform.schools.district IS 'The administrative district.';
COMMENT ON COLUMN platform.schools.level IS 'primary, secondary or combined.';
COMMENT ON COLUMN platform.schools.ownership IS 'government, council, mission, private or trust.';
COMMENT ON COLUMN platform.schools.location IS 'urban or rural.';

COMMENT ON TABLE ref.terms IS 'The school calendar: three terms a year.';
COMMENT ON COLUMN ref.terms.academic_year IS 'The school year (January to December).';
COMMENT ON COLUMN ref.terms.term IS '1, 2 or 3.';
COMMENT ON COLUMN ref.terms.start_date IS 'The first school day of the term.';
COMMENT ON COLUMN ref.terms.end_date IS 'The last school day of the term.';

COMMENT ON TABLE ref.population IS 'Projected population by district, single year of age and sex (ZIMSTAT), the denominator of enrolment ratios.';
COMMENT ON COLUMN ref.population.year IS 'The year the projection is for.';
COMMENT ON COLUMN ref.population.district IS 'The administrative district.';
COMMENT ON COLUMN ref.population.age IS 'Completed years on 1 January.';
COMMENT ON COLUMN ref.population.sex IS 'F or M.';
COMMENT ON COLUMN ref.population.population IS 'Projected number of people.';

COMMENT ON TABLE sis.learners IS 'Learners, one row per child; an analyst sees no names or national IDs, and a keyed pseudonym for the id.';
COMMENT ON COLUMN sis.learners.id IS 'The learner''s id (for analysts a keyed pseudonym, the same in every table).';
COMMENT ON COLUMN sis.learners.school_id IS 'The learner''s current school.';
COMMENT ON COLUMN sis.learners.learner_number IS 'The school''s own number for the learner.';
COMMENT ON COLUMN sis.learners.first_name IS 'Given name.';
COMMENT ON COLUMN sis.learners.last_name IS 'Family name.';
COMMENT ON COLUMN sis.learners.sex IS 'F or M.';
COMMENT ON COLUMN sis.learners.date_of_birth IS 'Date of birth (analysts see birth_month instead).';
COMMENT ON COLUMN sis.learners.national_id IS 'National ID or birth certificate number.';
COMMENT ON COLUMN sis.learners.disability IS 'A recorded disability, if any.';
COMMENT ON COLUMN sis.learners.is_ovc IS 'An orphan or vulnerable child (eligible for BEAM).';
COMMENT ON COLUMN sis.learners.status IS 'active, transferred, dropped_out, completed or deceased.';

COMMENT ON TABLE sis.enrolments IS 'Enrolments: a learner in a school, grade and year, from start_date until end_date.';
COMMENT ON COLUMN sis.enrolments.id IS 'The enrolment''s id.';
COMMENT ON COLUMN sis.enrolments.school_id IS 'The school.';
COMMENT ON COLUMN sis.enrolments.learner_id IS 'The learner (pseudonymised for analysts).';
COMMENT ON COLUMN sis.enrolments.academic_year IS 'The school year.';
COMMENT ON COLUMN sis.enrolments.grade IS 'ECD_A, ECD_B, G1 to G7, F1 to F6.';
COMMENT ON COLUMN sis.enrolments.class_id IS 'The class, when assigned.';
COMMENT ON COLUMN sis.enrolments.entry_type IS 'new, promoted, repeater, transfer_in or re_entry.';
COMMENT ON COLUMN sis.enrolments.start_date IS 'The first day of the enrolment.';
COMMENT ON COLUMN sis.enrolments.end_date IS 'The day the enrolment ended (null while enrolled).';
COMMENT ON COLUMN sis.enrolments.exit_reason IS 'Why the enrolment ended: completed, transfer_out, dropout, deceased or other.';

COMMENT ON TABLE academic.classes IS 'Classes (streams) of a school in a year.';
COMMENT ON COLUMN academic.classes.id IS 'The class''s id.';
COMMENT ON COLUMN academic.classes.school_id IS 'The school.';
COMMENT ON COLUMN academic.classes.academic_year IS 'The school year.';
COMMENT ON COLUMN academic.classes.grade IS 'The grade the class is in.';
COMMENT ON COLUMN academic.classes.name IS 'The class''s name, e.g. 3 Blue.';

COMMENT ON TABLE academic.class_teachers IS 'Which staff accounts teach which classes.';
COMMENT ON COLUMN academic.class_teachers.class_id IS 'The class.';
COMMENT ON COLUMN academic.class_teachers.user_id IS 'The teacher''s account.';
COMMENT ON COLUMN academic.class_teachers.school_id IS 'The school.';

COMMENT ON TABLE staff.staff IS 'Staff in post, one row per appointment.';
COMMENT ON COLUMN staff.staff.id IS 'The appointment''s id.';
COMMENT ON COLUMN staff.staff.school_id IS 'The school.';
COMMENT ON COLUMN staff.staff.sex IS 'F or M.';
COMMENT ON COLUMN staff.staff.post IS 'head, deputy, teacher, ecd_teacher, bursar, clerk or ancillary.';
COMMENT ON COLUMN staff.staff.qualification IS 'trained or untrained (teaching posts only).';
COMMENT ON COLUMN staff.staff.start_date IS 'The first day in post.';
COMMENT ON COLUMN staff.staff.end_date IS 'The day the appointment ended (null while in post).';

COMMENT ON TABLE attendance.daily_marks IS 'The daily register: one mark per learner and school day.';
COMMENT ON COLUMN attendance.daily_marks.id IS 'The mark''s id.';
COMMENT ON COLUMN attendance.daily_marks.school_id IS 'The school.';
COMMENT ON COLUMN attendance.daily_marks.learner_id IS 'The learner (pseudonymised for analysts).';
COMMENT ON COLUMN attendance.daily_marks.class_id IS 'The class whose register it is.';
COMMENT ON COLUMN attendance.daily_marks.date IS 'The school day.';
COMMENT ON COLUMN attendance.daily_marks.status IS 'present, absent, late or excused.';

COMMENT ON TABLE assessment.assessments IS 'School-based tests and exercises set for a class.';
COMMENT ON COLUMN assessment.assessments.id IS 'The assessment''s id.';
COMMENT ON COLUMN assessment.assessments.school_id IS 'The school.';
COMMENT ON COLUMN assessment.assessments.class_id IS 'The class it was set for.';
COMMENT ON COLUMN assessment.assessments.academic_year IS 'The school year.';
COMMENT ON COLUMN assessment.assessments.term IS '1, 2 or 3.';
COMMENT ON COLUMN assessment.assessments.subject_code IS 'The subject.';
COMMENT ON COLUMN assessment.assessments.name IS 'What the teacher called it.';
COMMENT ON COLUMN assessment.assessments.max_score IS 'The highest possible score.';
COMMENT ON COLUMN assessment.assessments.held_on IS 'The day it was written.';

COMMENT ON TABLE assessment.results IS 'A learner''s score in an assessment.';
COMMENT ON COLUMN assessment.results.id IS 'The result''s id.';
COMMENT ON COLUMN assessment.results.school_id IS 'The school.';
COMMENT ON COLUMN assessment.results.assessment_id IS 'The assessment.';
COMMENT ON COLUMN assessment.results.learner_id IS 'The learner (pseudonymised for analysts).';
COMMENT ON COLUMN assessment.results.score IS 'Marks obtained.';
COMMENT ON COLUMN assessment.results.max_score IS 'The highest possible score.';

COMMENT ON TABLE assessment.exam_results IS 'ZIMSEC examination results, one row per candidate and subject.';
COMMENT ON COLUMN assessment.exam_results.id IS 'The result''s id.';
COMMENT ON COLUMN assessment.exam_results.school_id IS 'The school the candidate sat at.';
COMMENT ON COLUMN assessment.exam_results.learner_id IS 'The candidate (pseudonymised for analysts).';
COMMENT ON COLUMN assessment.exam_results.academic_year IS 'The year of the examination.';
COMMENT ON COLUMN assessment.exam_results.exam IS 'G7, O (O level) or A (A level).';
COMMENT ON COLUMN assessment.exam_results.subject_code IS 'The subject.';
COMMENT ON COLUMN assessment.exam_results.grade IS 'G7: units 1 (best) to 9; O level: A to E, U; A level: A to E, O, F.';

COMMENT ON TABLE finance.invoices IS 'Fees invoiced to a learner for a term.';
COMMENT ON COLUMN finance.invoices.id IS 'The invoice''s id.';
COMMENT ON COLUMN finance.invoices.school_id IS 'The school.';
COMMENT ON COLUMN finance.invoices.learner_id IS 'The learner invoiced (pseudonymised for analysts).';
COMMENT ON COLUMN finance.invoices.academic_year IS 'The school year.';
COMMENT ON COLUMN finance.invoices.term IS '1, 2 or 3.';
COMMENT ON COLUMN finance.invoices.currency IS 'USD or ZWG (ZiG).';
COMMENT ON COLUMN finance.invoices.amount IS 'The amount invoiced, in currency.';
COMMENT ON COLUMN finance.invoices.issued_on IS 'When the invoice was issued.';
COMMENT ON COLUMN finance.invoices.due_on IS 'When payment is due.';

COMMENT ON TABLE finance.payments IS 'Payments against invoices, by any method (BEAM included).';
COMMENT ON COLUMN finance.payments.id IS 'The payment''s id.';
COMMENT ON COLUMN finance.payments.school_id IS 'The school.';
COMMENT ON COLUMN finance.payments.learner_id IS 'The learner paid for (pseudonymised for analysts).';
COMMENT ON COLUMN finance.payments.invoice_id IS 'The invoice paid.';
COMMENT ON COLUMN finance.payments.academic_year IS 'The school year of the invoice.';
COMMENT ON COLUMN finance.payments.term IS 'The term of the invoice.';
COMMENT ON COLUMN finance.payments.currency IS 'The currency paid in: USD or ZWG.';
COMMENT ON COLUMN finance.payments.amount IS 'The amount paid, in currency.';
COMMENT ON COLUMN finance.payments.exchange_rate IS 'Units of currency per unit of the invoice''s currency on the day, when they differ.';
COMMENT ON COLUMN finance.payments.amount_applied IS 'What the invoice was credited, in the invoice''s currency.';
COMMENT ON COLUMN finance.payments.method IS 'cash, paynow, ecocash, bank or beam.';
COMMENT ON COLUMN finance.payments.paid_on IS 'The day of payment.';
COMMENT ON COLUMN finance.payments.reference IS 'The payment''s reference (receipt, transaction).';
COMMENT ON COLUMN finance.payments.idempotency_key IS 'The key that makes a payment count once however often it is sent.';
COMMENT ON TABLE platform.seed_state IS 'Whether the database holds synthetic data and whether its seed finished (one row, or none).';
COMMENT ON COLUMN platform.seed_state.singleton IS 'Always true: the table has at most one row.';
COMMENT ON COLUMN platform.seed_state.seed IS 'The seed the synthetic data was generated from.';
COMMENT ON COLUMN platform.seed_state.started_at IS 'When seeding started.';
COMMENT ON COLUMN platform.seed_state.finished_at IS 'When seeding finished (null while it runs).';

-- The bookkeeping columns every school-owned table has, the same in each.
DO $$
DECLARE
  col record;
BEGIN
  FOR col IN
    SELECT c.table_schema, c.table_name, c.column_name
    FROM information_schema.columns c
    JOIN pg_catalog.pg_publication_tables p
      ON p.pubname = 'oneclass_lake' AND p.schemaname = c.table_schema
     AND p.tablename = c.table_name
    WHERE c.column_name IN ('created_at', 'updated_at', 'created_by', 'updated_by')
  LOOP
    EXECUTE format('COMMENT ON COLUMN %I.%I.%I IS %L', col.table_schema, col.table_name,
      col.column_name, CASE col.column_name
        WHEN 'created_at' THEN 'When the row was created in OneClass.'
        WHEN 'updated_at' THEN 'When the row last changed in OneClass.'
        WHEN 'created_by' THEN 'The account that created the row (null for imports and seeding).'
        ELSE 'The account that last changed the row.' END);
  END LOOP;
END
$$;
