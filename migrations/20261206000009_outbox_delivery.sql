-- The outbox's delivery: each message's state (queued, sent, failed after its last attempt), when
-- it is next tried (backing off after each failure), and the gateway's id for it. A sender
-- claims due messages by moving their next attempt ahead in one short transaction, then sends
-- them: a sender killed mid-send leaves them to be tried again when that time comes, and the
-- gateway is told each message's id so that a second try is not a second SMS.
ALTER TABLE comms.outbox
  ADD COLUMN status text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'sent', 'failed')),
  ADD COLUMN next_attempt_at timestamptz NOT NULL DEFAULT now(),
  ADD COLUMN provider_id text;
DROP INDEX comms.outbox_pending;
CREATE INDEX outbox_due ON comms.outbox (next_attempt_at) WHERE status = 'queued';
COMMENT ON COLUMN comms.outbox.status IS 'queued (to send, or to try again), sent, or failed (every attempt failed).';
COMMENT ON COLUMN comms.outbox.next_attempt_at IS 'When the message is next due to be tried.';
COMMENT ON COLUMN comms.outbox.provider_id IS 'The gateway''s id for the sent message.';
