-- Announcements: a notice from a school to the whole school, a grade, a class, or the parents of
-- a class. Shown on the school's pages (and the parents' portal); sent by SMS to the guardians of
-- the learners concerned when asked, through the outbox in the same transaction.

CREATE TABLE comms.announcements (
  id          uuid PRIMARY KEY,
  school_id   uuid NOT NULL REFERENCES platform.schools (id),
  audience    text NOT NULL CHECK (audience IN ('school', 'grade', 'class', 'class_parents')),
  grade       text CHECK (grade IN ('ECD_A', 'ECD_B', 'G1', 'G2', 'G3', 'G4', 'G5', 'G6', 'G7',
                'F1', 'F2', 'F3', 'F4', 'F5', 'F6')),
  class_id    uuid REFERENCES academic.classes (id),
  title       text NOT NULL CHECK (length(title) BETWEEN 1 AND 120),
  body        text NOT NULL CHECK (length(body) BETWEEN 1 AND 1000),
  sms_queued  integer NOT NULL DEFAULT 0 CHECK (sms_queued >= 0),
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  created_by  uuid DEFAULT platform.current_user_id(),
  updated_by  uuid DEFAULT platform.current_user_id(),
  CHECK ((audience = 'grade') = (grade IS NOT NULL)),
  CHECK ((audience IN ('class', 'class_parents')) = (class_id IS NOT NULL))
);
CREATE INDEX announcements_school_newest ON comms.announcements (school_id, id DESC);
SELECT platform.make_school_owned('comms.announcements');
SELECT platform.comment_bookkeeping(ARRAY['comms.announcements']::regclass[]);

COMMENT ON TABLE comms.announcements IS 'Notices from a school to its learners'' families and staff.';
COMMENT ON COLUMN comms.announcements.audience IS 'school, grade, class, or class_parents (only the parents of the class).';
COMMENT ON COLUMN comms.announcements.sms_queued IS 'How many SMS messages were queued for guardians when it was sent.';
