-- The parents' portal. A parent signs in with a code sent to their phone; their account is
-- linked to every guardian record with that phone, at any school. A parent's session has no
-- schools: the staff policies give it nothing, and the policies below give it the records of the
-- learners it is a guardian of, where the school has not withdrawn that guardian's access.

ALTER TABLE sis.guardians ADD COLUMN user_id uuid REFERENCES platform.users (id);
CREATE INDEX guardians_user ON sis.guardians (user_id) WHERE user_id IS NOT NULL;
COMMENT ON COLUMN sis.guardians.user_id IS 'The guardian''s portal account, once they have signed in (null before).';
ALTER TABLE sis.learner_guardians ADD COLUMN portal boolean NOT NULL DEFAULT true;
COMMENT ON COLUMN sis.learner_guardians.portal IS 'Whether the guardian sees the learner on the parents'' portal (the school may withdraw it).';

-- The learners of the signed-in parent (none for any other session). Policies call it as
-- `(SELECT platform.current_children())`: evaluated once a statement, not once a row, so staff
-- queries over millions of rows pay nothing for it.
CREATE FUNCTION platform.current_children() RETURNS uuid[]
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
  SELECT coalesce(array_agg(DISTINCT lg.learner_id), '{}')
  FROM sis.learner_guardians lg JOIN sis.guardians g ON g.id = lg.guardian_id
  WHERE current_setting('app.role', true) = 'parent' AND lg.portal
    AND g.user_id = nullif(current_setting('app.user_id', true), '')::uuid
$$;

-- The classes, and (school, grade) pairs, of the parent's learners now.
CREATE FUNCTION platform.current_children_classes() RETURNS uuid[]
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
  SELECT coalesce(array_agg(DISTINCT e.class_id) FILTER (WHERE e.class_id IS NOT NULL), '{}')
  FROM sis.enrolments e
  WHERE e.learner_id = ANY (platform.current_children()) AND e.end_date IS NULL
$$;

CREATE POLICY parent_reads ON sis.learners FOR SELECT TO oneclass_app
  USING (id = ANY ((SELECT platform.current_children())::uuid[]));
CREATE POLICY parent_reads ON sis.enrolments FOR SELECT TO oneclass_app
  USING (learner_id = ANY ((SELECT platform.current_children())::uuid[]));
CREATE POLICY parent_reads ON attendance.daily_marks FOR SELECT TO oneclass_app
  USING (learner_id = ANY ((SELECT platform.current_children())::uuid[]));
CREATE POLICY parent_reads ON assessment.results FOR SELECT TO oneclass_app
  USING (learner_id = ANY ((SELECT platform.current_children())::uuid[]));
CREATE POLICY parent_reads ON finance.invoices FOR SELECT TO oneclass_app
  USING (learner_id = ANY ((SELECT platform.current_children())::uuid[]));
CREATE POLICY parent_reads ON finance.payments FOR SELECT TO oneclass_app
  USING (learner_id = ANY ((SELECT platform.current_children())::uuid[]));
CREATE POLICY parent_reads ON finance.refunds FOR SELECT TO oneclass_app
  USING (learner_id = ANY ((SELECT platform.current_children())::uuid[]));
CREATE POLICY parent_reads ON finance.paynow_transactions FOR SELECT TO oneclass_app
  USING (learner_id = ANY ((SELECT platform.current_children())::uuid[]));
-- A parent starts a Paynow payment for their own learner's invoice.
CREATE POLICY parent_pays ON finance.paynow_transactions FOR INSERT TO oneclass_app
  WITH CHECK (learner_id = ANY ((SELECT platform.current_children())::uuid[]));
CREATE POLICY parent_reads ON academic.classes FOR SELECT TO oneclass_app
  USING (id = ANY ((SELECT platform.current_children_classes())::uuid[]));
CREATE POLICY parent_reads ON assessment.assessments FOR SELECT TO oneclass_app
  USING (class_id = ANY ((SELECT platform.current_children_classes())::uuid[]));
-- Announcements to a school, a grade or a class the parent's learners are in now.
CREATE POLICY parent_reads ON comms.announcements FOR SELECT TO oneclass_app
  USING ((SELECT current_setting('app.role', true)) = 'parent' AND EXISTS (
    SELECT 1 FROM sis.enrolments e
    WHERE e.learner_id = ANY ((SELECT platform.current_children())::uuid[]) AND e.end_date IS NULL
      AND e.school_id = comms.announcements.school_id
      AND (comms.announcements.audience = 'school'
           OR (comms.announcements.audience = 'grade' AND e.grade = comms.announcements.grade)
           OR e.class_id = comms.announcements.class_id)));
-- A parent reads their own guardian records (their name and phone as the school holds them).
CREATE POLICY parent_reads ON sis.guardians FOR SELECT TO oneclass_app
  USING (current_setting('app.role', true) = 'parent'
         AND user_id = nullif(current_setting('app.user_id', true), '')::uuid);

-- One-time sign-in codes sent by SMS: only a hash is kept, a code works once, for ten minutes,
-- and five wrong tries spend it.
CREATE TABLE platform.otp_codes (
  id          uuid PRIMARY KEY,
  phone       text NOT NULL CHECK (phone ~ '^\+263[0-9]{9}$'),
  code_hash   bytea NOT NULL,
  expires_at  timestamptz NOT NULL,
  attempts    integer NOT NULL DEFAULT 0,
  used_at     timestamptz,
  created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX otp_codes_phone ON platform.otp_codes (phone, created_at DESC);
GRANT SELECT, INSERT, UPDATE (attempts, used_at) ON platform.otp_codes TO oneclass_app;
COMMENT ON TABLE platform.otp_codes IS 'One-time sign-in codes sent to guardians'' phones (hashes only).';

-- Whether a phone belongs to a guardian who may use the portal (asked before a code is sent).
CREATE FUNCTION platform.portal_phone_known(p_phone text) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
  SELECT EXISTS (SELECT 1 FROM sis.guardians g JOIN sis.learner_guardians lg
                 ON lg.guardian_id = g.id WHERE g.phone = p_phone AND lg.portal)
$$;

-- The portal account of a phone whose code was just checked: made on the first sign-in (no
-- password until the parent sets one) and linked to every guardian record with that phone.
CREATE FUNCTION platform.parent_account(p_phone text) RETURNS uuid
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  uid uuid;
  name text;
BEGIN
  SELECT id INTO uid FROM platform.users WHERE username = p_phone AND role = 'parent';
  IF NOT FOUND THEN
    SELECT g.full_name INTO name FROM sis.guardians g WHERE g.phone = p_phone
      ORDER BY g.created_at LIMIT 1;
    IF NOT FOUND THEN
      RETURN NULL;
    END IF;
    uid := platform.uuid_v7();
    -- '!' is no Argon2 hash: no password opens the account until the parent sets one.
    INSERT INTO platform.users (id, username, password_hash, role, display_name, phone)
    VALUES (uid, p_phone, '!', 'parent', name, p_phone);
  END IF;
  UPDATE sis.guardians SET user_id = uid WHERE phone = p_phone AND user_id IS DISTINCT FROM uid;
  RETURN uid;
END
$$;
