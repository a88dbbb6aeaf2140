-- What staff did for a learner the attention list or the early-warning model pointed to, and what
-- came of it. The model only ranks; a person decides and records the decision here (the Cyber and
-- Data Protection Act: no decision about a person by automated processing alone), and the list
-- shows what was done. Not published to the lake: free text about a child stays in the school.

CREATE TABLE sis.support_actions (
  id             uuid PRIMARY KEY,
  school_id      uuid NOT NULL REFERENCES platform.schools (id),
  learner_id     uuid NOT NULL REFERENCES sis.learners (id),
  action         text NOT NULL CHECK (length(action) BETWEEN 1 AND 500),
  outcome        text CHECK (outcome IS NULL OR length(outcome) BETWEEN 1 AND 500),
  model_version  integer CHECK (model_version IS NULL OR model_version > 0),
  created_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now(),
  created_by     uuid DEFAULT platform.current_user_id(),
  updated_by     uuid DEFAULT platform.current_user_id()
);
CREATE INDEX support_actions_learner ON sis.support_actions (learner_id, created_at DESC);
SELECT platform.make_school_owned('sis.support_actions');
SELECT platform.comment_bookkeeping(ARRAY['sis.support_actions']::regclass[]);

COMMENT ON TABLE sis.support_actions IS 'What staff did for a learner flagged as needing attention, and the outcome (not published to the lake).';
COMMENT ON COLUMN sis.support_actions.action IS 'What was done: a home visit, a meeting with the guardian, a referral, a BEAM application.';
COMMENT ON COLUMN sis.support_actions.outcome IS 'What came of it, once known.';
COMMENT ON COLUMN sis.support_actions.model_version IS 'The early-warning model version whose score prompted the action, if one did.';
