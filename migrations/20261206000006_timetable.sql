-- The timetable: the periods of a school's week, the lessons placed in them, and what the
-- generator needs besides (a class's own room, the kind of room a subject needs, a teacher's
-- limits). No class, teacher or room is in two places at once: unique keys, whoever writes.

CREATE TABLE academic.periods (
  id          uuid PRIMARY KEY,
  school_id   uuid NOT NULL REFERENCES platform.schools (id),
  day         smallint NOT NULL CHECK (day BETWEEN 1 AND 6),
  slot        smallint NOT NULL CHECK (slot BETWEEN 1 AND 16),
  starts_at   time NOT NULL,
  ends_at     time NOT NULL CHECK (ends_at > starts_at),
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  created_by  uuid DEFAULT platform.current_user_id(),
  updated_by  uuid DEFAULT platform.current_user_id(),
  UNIQUE (school_id, day, slot)
);
SELECT platform.make_school_owned('academic.periods');

ALTER TABLE academic.classes ADD COLUMN home_room_id uuid REFERENCES academic.rooms (id);
ALTER TABLE academic.teaching
  ADD COLUMN room_kind text CHECK (room_kind IN ('laboratory', 'computer_lab', 'workshop', 'hall', 'field', 'other')),
  ADD CONSTRAINT teaching_lesson_key UNIQUE (id, class_id, user_id);
ALTER TABLE staff.staff
  ADD COLUMN max_lessons_week smallint CHECK (max_lessons_week BETWEEN 1 AND 96),
  ADD COLUMN max_lessons_day smallint CHECK (max_lessons_day BETWEEN 1 AND 16);

-- A lesson: a teaching assignment in a period. The class and teacher are the assignment's,
-- carried here (and kept in step when the assignment changes teacher) so that the unique keys
-- can hold them.
CREATE TABLE academic.lessons (
  id           uuid PRIMARY KEY,
  school_id    uuid NOT NULL REFERENCES platform.schools (id),
  teaching_id  uuid NOT NULL,
  class_id     uuid NOT NULL,
  user_id      uuid NOT NULL,
  period_id    uuid NOT NULL REFERENCES academic.periods (id) ON DELETE CASCADE,
  room_id      uuid REFERENCES academic.rooms (id),
  placed_by    text NOT NULL CHECK (placed_by IN ('generator', 'hand')),
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now(),
  created_by   uuid DEFAULT platform.current_user_id(),
  updated_by   uuid DEFAULT platform.current_user_id(),
  FOREIGN KEY (teaching_id, class_id, user_id) REFERENCES academic.teaching (id, class_id, user_id)
    ON UPDATE CASCADE ON DELETE CASCADE,
  CONSTRAINT lessons_class_once UNIQUE (period_id, class_id),
  CONSTRAINT lessons_teacher_once UNIQUE (period_id, user_id),
  CONSTRAINT lessons_room_once UNIQUE (period_id, room_id)
);
CREATE INDEX lessons_teaching ON academic.lessons (teaching_id);
CREATE INDEX lessons_school ON academic.lessons (school_id);
SELECT platform.make_school_owned('academic.lessons');

ALTER PUBLICATION oneclass_lake ADD TABLE academic.periods, academic.lessons;

-- The created/updated bookkeeping columns' meanings, for any tables (so far a DO block in each
-- migration).
CREATE FUNCTION platform.comment_bookkeeping(tables regclass[]) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE tbl regclass; col text;
BEGIN
  FOREACH tbl IN ARRAY tables LOOP
    FOREACH col IN ARRAY ARRAY['created_at', 'updated_at', 'created_by', 'updated_by'] LOOP
      EXECUTE format('COMMENT ON COLUMN %s.%I IS %L', tbl, col, CASE col
        WHEN 'created_at' THEN 'When the row was created in OneClass.'
        WHEN 'updated_at' THEN 'When the row last changed in OneClass.'
        WHEN 'created_by' THEN 'The account that created the row (null for imports and seeding).'
        ELSE 'The account that last changed the row.' END);
    END LOOP;
  END LOOP;
END
$$;
SELECT platform.comment_bookkeeping(ARRAY['academic.periods', 'academic.lessons']::regclass[]);

COMMENT ON TABLE academic.periods IS 'The periods of a school''s week (its bell schedule).';
COMMENT ON COLUMN academic.periods.id IS 'The period''s id.';
COMMENT ON COLUMN academic.periods.school_id IS 'The school.';
COMMENT ON COLUMN academic.periods.day IS 'The day: 1 Monday … 6 Saturday.';
COMMENT ON COLUMN academic.periods.slot IS 'The period''s number in its day, from 1.';
COMMENT ON COLUMN academic.periods.starts_at IS 'When it starts.';
COMMENT ON COLUMN academic.periods.ends_at IS 'When it ends.';
COMMENT ON COLUMN academic.classes.home_room_id IS 'The class''s own room, where its lessons are unless they need another kind.';
COMMENT ON COLUMN academic.teaching.room_kind IS 'The kind of room the lessons need (laboratory, computer_lab, …); null: the class''s own room.';
COMMENT ON COLUMN staff.staff.max_lessons_week IS 'The most lessons a week the timetable may give the teacher (null: the school''s default).';
COMMENT ON COLUMN staff.staff.max_lessons_day IS 'The most lessons a day the timetable may give the teacher (null: the school''s default).';
COMMENT ON TABLE academic.lessons IS 'The timetable: a teaching assignment''s lesson in a period, in a room.';
COMMENT ON COLUMN academic.lessons.id IS 'The lesson''s id.';
COMMENT ON COLUMN academic.lessons.school_id IS 'The school.';
COMMENT ON COLUMN academic.lessons.teaching_id IS 'The teaching assignment (class, subject, teacher).';
COMMENT ON COLUMN academic.lessons.class_id IS 'The class (the assignment''s).';
COMMENT ON COLUMN academic.lessons.user_id IS 'The teacher''s account (the assignment''s).';
COMMENT ON COLUMN academic.lessons.period_id IS 'The period.';
COMMENT ON COLUMN academic.lessons.room_id IS 'The room, when it has one.';
COMMENT ON COLUMN academic.lessons.placed_by IS 'generator or hand (a lesson placed by hand stays where it is when the week is generated again).';
