-- Direct messages between a school's staff and a learner's guardian, about that learner. Each
-- message is a row (never edited); a trigger announces it on the `comms_messages` channel when
-- its transaction commits, so open pages are told at once (server-sent events), and nothing is
-- lost when no page is open: the table is the record.

-- The guardian records of the signed-in parent (none for any other session).
CREATE FUNCTION platform.current_guardians() RETURNS uuid[]
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
  SELECT coalesce(array_agg(g.id), '{}')
  FROM sis.guardians g
  WHERE current_setting('app.role', true) = 'parent'
    AND g.user_id = nullif(current_setting('app.user_id', true), '')::uuid
$$;

CREATE TABLE comms.messages (
  id             uuid PRIMARY KEY,
  school_id      uuid NOT NULL REFERENCES platform.schools (id),
  learner_id     uuid NOT NULL REFERENCES sis.learners (id),
  guardian_id    uuid NOT NULL REFERENCES sis.guardians (id),
  from_guardian  boolean NOT NULL,
  sender_id      uuid NOT NULL REFERENCES platform.users (id),
  body           text NOT NULL CHECK (length(body) BETWEEN 1 AND 2000),
  created_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now(),
  created_by     uuid DEFAULT platform.current_user_id(),
  updated_by     uuid DEFAULT platform.current_user_id()
);
CREATE INDEX messages_learner ON comms.messages (learner_id, created_at);
SELECT platform.make_school_owned('comms.messages');
REVOKE UPDATE, DELETE ON comms.messages FROM oneclass_app;
-- A parent reads and writes their own conversations about their own learners, and writes only
-- as themselves.
CREATE POLICY parent_reads ON comms.messages FOR SELECT TO oneclass_app
  USING (guardian_id = ANY ((SELECT platform.current_guardians())::uuid[])
         AND learner_id = ANY ((SELECT platform.current_children())::uuid[]));
CREATE POLICY parent_writes ON comms.messages FOR INSERT TO oneclass_app
  WITH CHECK (from_guardian
              AND sender_id = nullif(current_setting('app.user_id', true), '')::uuid
              AND guardian_id = ANY ((SELECT platform.current_guardians())::uuid[])
              AND learner_id = ANY ((SELECT platform.current_children())::uuid[])
              -- The guardian is the school's: a link left at a learner's former school after a
              -- transfer does not write into the new school's records.
              AND EXISTS (SELECT 1 FROM sis.guardians g
                          WHERE g.id = guardian_id AND g.school_id = comms.messages.school_id));

-- A parent reads their own links to learners (which conversation is theirs), where the school
-- has not withdrawn their access.
CREATE POLICY parent_reads ON sis.learner_guardians FOR SELECT TO oneclass_app
  USING (portal AND guardian_id = ANY ((SELECT platform.current_guardians())::uuid[]));

CREATE FUNCTION comms.announce_message() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('comms_messages', NEW.learner_id::text || ':' || NEW.id::text);
  RETURN NULL;
END
$$;
CREATE TRIGGER announce AFTER INSERT ON comms.messages
  FOR EACH ROW EXECUTE FUNCTION comms.announce_message();

COMMENT ON TABLE comms.messages IS 'Messages between the school''s staff and a guardian about a learner (not published to the lake: private correspondence).';
COMMENT ON COLUMN comms.messages.from_guardian IS 'Written by the guardian (else by a member of staff).';
COMMENT ON COLUMN comms.messages.sender_id IS 'The account that wrote it.';
