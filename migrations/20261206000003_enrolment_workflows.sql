-- Enrolment workflows and learner records: one active enrolment per learner (a constraint),
-- transfers between two schools on the platform, the Zimbabwe fields of a learner's record, and
-- guardians.

-- One active enrolment per learner at a time, whatever the year.
DROP INDEX sis.enrolments_one_open;
CREATE UNIQUE INDEX enrolments_one_active ON sis.enrolments (learner_id) WHERE end_date IS NULL;

-- A school sees the whole enrolment history of the learners it now holds, including the years
-- at earlier schools on the platform (the sending school keeps its own rows).
CREATE POLICY history_of_own_learners ON sis.enrolments FOR SELECT TO oneclass_app
  USING (EXISTS (SELECT 1 FROM sis.learners l WHERE l.id = learner_id));

-- The Zimbabwe fields of a learner's record (ZIMBABWE.md, People and data).
ALTER TABLE sis.learners
  ADD COLUMN birth_entry_number text
    CHECK (birth_entry_number IS NULL OR birth_entry_number ~ '^[0-9A-Z/ -]{4,20}$'),
  ADD COLUMN home_language text CHECK (home_language IS NULL OR length(home_language) BETWEEN 2 AND 40),
  ADD COLUMN is_beam boolean NOT NULL DEFAULT false;
CREATE INDEX learners_school_name ON sis.learners (school_id, lower(last_name), lower(first_name));

-- Guardians: the adults who act for a learner (a child is under 18: ZIMBABWE.md).
CREATE TABLE sis.guardians (
  id           uuid PRIMARY KEY,
  school_id    uuid NOT NULL REFERENCES platform.schools (id),
  full_name    text NOT NULL CHECK (length(full_name) BETWEEN 1 AND 120),
  phone        text CHECK (phone IS NULL OR phone ~ '^\+263[0-9]{9}$'),
  email        text CHECK (email IS NULL OR email ~ '^[^@\s]+@[^@\s]+\.[^@\s]+$'),
  national_id  text,
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now(),
  created_by   uuid DEFAULT platform.current_user_id(),
  updated_by   uuid DEFAULT platform.current_user_id()
);
CREATE INDEX guardians_phone ON sis.guardians (phone);
SELECT platform.make_school_owned('sis.guardians');

CREATE TABLE sis.learner_guardians (
  learner_id    uuid NOT NULL REFERENCES sis.learners (id),
  guardian_id   uuid NOT NULL REFERENCES sis.guardians (id),
  school_id     uuid NOT NULL REFERENCES platform.schools (id),
  relationship  text NOT NULL CHECK (relationship IN ('mother', 'father', 'grandparent', 'aunt',
                  'uncle', 'sibling', 'guardian', 'other')),
  may_collect   boolean NOT NULL DEFAULT true,
  pays_fees     boolean NOT NULL DEFAULT false,
  is_primary    boolean NOT NULL DEFAULT false,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now(),
  created_by    uuid DEFAULT platform.current_user_id(),
  updated_by    uuid DEFAULT platform.current_user_id(),
  PRIMARY KEY (learner_id, guardian_id)
);
CREATE UNIQUE INDEX learner_guardians_one_primary
  ON sis.learner_guardians (learner_id) WHERE is_primary;
SELECT platform.make_school_owned('sis.learner_guardians');

-- A transfer between two schools on the platform: asked by the sending school, completed by
-- the receiving one. Both see it; the receiving school sees who is coming (name, number and
-- grade as the sending school sent them) before the record is theirs.
CREATE TABLE sis.transfers (
  id              uuid PRIMARY KEY,
  learner_id      uuid NOT NULL REFERENCES sis.learners (id),
  from_school_id  uuid NOT NULL REFERENCES platform.schools (id),
  to_school_id    uuid NOT NULL REFERENCES platform.schools (id) CHECK (to_school_id <> from_school_id),
  learner_name    text NOT NULL,
  learner_number  text NOT NULL,
  grade           text NOT NULL,
  leaving_on      date NOT NULL,
  status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'completed', 'cancelled')),
  completed_at    timestamptz,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  created_by      uuid DEFAULT platform.current_user_id(),
  updated_by      uuid DEFAULT platform.current_user_id()
);
CREATE UNIQUE INDEX transfers_one_pending ON sis.transfers (learner_id) WHERE status = 'pending';
ALTER TABLE sis.transfers ENABLE ROW LEVEL SECURITY;
ALTER TABLE sis.transfers FORCE ROW LEVEL SECURITY;
CREATE POLICY either_school ON sis.transfers TO oneclass_app
  USING (from_school_id = ANY (platform.current_school_ids())
         OR to_school_id = ANY (platform.current_school_ids()))
  WITH CHECK (from_school_id = ANY (platform.current_school_ids())
              OR to_school_id = ANY (platform.current_school_ids()));
CREATE POLICY cdc_snapshot ON sis.transfers FOR SELECT TO oneclass_cdc USING (true);
GRANT SELECT, INSERT, UPDATE ON sis.transfers TO oneclass_app;
GRANT SELECT ON sis.transfers TO oneclass_cdc;
CREATE TRIGGER touch BEFORE UPDATE ON sis.transfers FOR EACH ROW EXECUTE FUNCTION platform.touch();
SELECT audit.track('sis.transfers');

-- Completes a pending transfer addressed to one of the request's schools, in one step: the
-- sending school's enrolment ends (`transfer_out`, the day before the learner starts), the
-- record moves to the receiving school, and an enrolment opens there (`transfer_in`). Runs with
-- the owner's rights because it writes a row of the sending school; it checks everything the
-- app role's policies would.
CREATE FUNCTION sis.complete_transfer(p_transfer uuid, p_grade text, p_class uuid,
                                      p_start date, p_year integer)
RETURNS uuid
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  t sis.transfers%ROWTYPE;
  new_id uuid := platform.uuid_v7();
BEGIN
  SELECT * INTO t FROM sis.transfers WHERE id = p_transfer FOR UPDATE;
  IF NOT FOUND OR NOT (t.to_school_id = ANY (platform.current_school_ids())) THEN
    RAISE EXCEPTION 'no such transfer to your schools' USING ERRCODE = 'P0002';
  END IF;
  IF t.status <> 'pending' THEN
    RAISE EXCEPTION 'the transfer is %', t.status USING ERRCODE = '55000';
  END IF;
  IF p_start < t.leaving_on THEN
    RAISE EXCEPTION 'the learner starts before leaving the other school' USING ERRCODE = '22023';
  END IF;
  IF p_class IS NOT NULL AND NOT EXISTS (
       SELECT 1 FROM academic.classes c WHERE c.id = p_class AND c.school_id = t.to_school_id
         AND c.grade = p_grade AND c.academic_year = p_year) THEN
    RAISE EXCEPTION 'the class is not one of the receiving school''s, of that grade and year'
      USING ERRCODE = '22023';
  END IF;
  UPDATE sis.enrolments
     SET end_date = greatest(start_date, p_start - 1), exit_reason = 'transfer_out'
   WHERE learner_id = t.learner_id AND end_date IS NULL;
  UPDATE sis.learners SET school_id = t.to_school_id, status = 'active'
   WHERE id = t.learner_id;
  INSERT INTO sis.enrolments (id, school_id, learner_id, academic_year, grade, class_id,
                              entry_type, start_date)
  VALUES (new_id, t.to_school_id, t.learner_id, p_year, p_grade, p_class, 'transfer_in', p_start);
  UPDATE sis.transfers SET status = 'completed', completed_at = now() WHERE id = p_transfer;
  RETURN new_id;
END
$$;
REVOKE ALL ON FUNCTION sis.complete_transfer(uuid, text, uuid, date, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION sis.complete_transfer(uuid, text, uuid, date, integer) TO oneclass_app;

ALTER PUBLICATION oneclass_lake ADD TABLE sis.guardians, sis.learner_guardians, sis.transfers;

COMMENT ON COLUMN sis.learners.birth_entry_number IS 'The birth entry number (hidden from analysts: it identifies the learner).';
COMMENT ON COLUMN sis.learners.home_language IS 'The language spoken at home (Shona, Ndebele, Tonga, …).';
COMMENT ON COLUMN sis.learners.is_beam IS 'Whether BEAM (the Basic Education Assistance Module) pays the learner''s fees.';
COMMENT ON TABLE sis.guardians IS 'Guardians: the adults who act for learners; an analyst sees no names, phones, emails or IDs.';
COMMENT ON COLUMN sis.guardians.id IS 'The guardian''s id.';
COMMENT ON COLUMN sis.guardians.school_id IS 'The school that recorded the guardian.';
COMMENT ON COLUMN sis.guardians.full_name IS 'The guardian''s name (hidden from analysts).';
COMMENT ON COLUMN sis.guardians.phone IS 'The guardian''s phone in E.164, +263… (hidden from analysts).';
COMMENT ON COLUMN sis.guardians.email IS 'The guardian''s email (hidden from analysts).';
COMMENT ON COLUMN sis.guardians.national_id IS 'The guardian''s national ID (hidden from analysts).';
COMMENT ON TABLE sis.learner_guardians IS 'Which guardian acts for which learner, and how.';
COMMENT ON COLUMN sis.learner_guardians.learner_id IS 'The learner (for analysts a keyed pseudonym).';
COMMENT ON COLUMN sis.learner_guardians.guardian_id IS 'The guardian.';
COMMENT ON COLUMN sis.learner_guardians.school_id IS 'The learner''s school.';
COMMENT ON COLUMN sis.learner_guardians.relationship IS 'mother, father, grandparent, aunt, uncle, sibling, guardian or other.';
COMMENT ON COLUMN sis.learner_guardians.may_collect IS 'Whether the guardian may collect the learner from school.';
COMMENT ON COLUMN sis.learner_guardians.pays_fees IS 'Whether the guardian pays the learner''s fees.';
COMMENT ON COLUMN sis.learner_guardians.is_primary IS 'The first contact for the learner (one per learner).';
COMMENT ON TABLE sis.transfers IS 'Transfers of learners between two schools on OneClass.';
COMMENT ON COLUMN sis.transfers.id IS 'The transfer''s id.';
COMMENT ON COLUMN sis.transfers.learner_id IS 'The learner (for analysts a keyed pseudonym).';
COMMENT ON COLUMN sis.transfers.from_school_id IS 'The sending school.';
COMMENT ON COLUMN sis.transfers.to_school_id IS 'The receiving school.';
COMMENT ON COLUMN sis.transfers.learner_name IS 'The learner''s name as sent (hidden from analysts).';
COMMENT ON COLUMN sis.transfers.learner_number IS 'The sending school''s learner number (hidden from analysts).';
COMMENT ON COLUMN sis.transfers.grade IS 'The learner''s grade at the sending school.';
COMMENT ON COLUMN sis.transfers.leaving_on IS 'The learner''s last day at the sending school.';
COMMENT ON COLUMN sis.transfers.status IS 'pending, completed or cancelled.';
COMMENT ON COLUMN sis.transfers.completed_at IS 'When the receiving school completed it.';
DO $$
DECLARE col record;
BEGIN
  FOR col IN SELECT table_schema, table_name, column_name FROM information_schema.columns
             WHERE table_schema = 'sis' AND table_name IN ('guardians', 'learner_guardians', 'transfers')
               AND column_name IN ('created_at', 'updated_at', 'created_by', 'updated_by')
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
