-- Delivery reports: the SMS provider tells us, after a message was handed over ("sent"), whether
-- it reached the phone. Recorded beside the message, by the provider's id for it.
ALTER TABLE comms.outbox
  ADD COLUMN delivery text CHECK (delivery IN ('delivered', 'undelivered')),
  ADD COLUMN delivery_detail text CHECK (length(delivery_detail) <= 500),
  ADD COLUMN delivery_at timestamptz;
CREATE INDEX outbox_provider ON comms.outbox (provider_id) WHERE provider_id IS NOT NULL;
COMMENT ON COLUMN comms.outbox.delivery IS 'What the provider reported after sending: delivered or undelivered (null: no report yet).';
COMMENT ON COLUMN comms.outbox.delivery_detail IS 'The provider''s reason, when it gave one.';
COMMENT ON COLUMN comms.outbox.delivery_at IS 'When the report came.';

-- The API's role may not read or change the outbox; this records a report and nothing else. The
-- latest report wins (a provider may report "undelivered" and then, on a retry, "delivered").
CREATE FUNCTION comms.record_delivery(p_provider_id text, p_delivered boolean, p_detail text)
RETURNS boolean
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
  WITH hit AS (
    UPDATE comms.outbox
       SET delivery = CASE WHEN p_delivered THEN 'delivered' ELSE 'undelivered' END,
           delivery_detail = left(p_detail, 500), delivery_at = now()
     WHERE provider_id = p_provider_id AND status = 'sent'
     RETURNING 1)
  SELECT EXISTS (SELECT 1 FROM hit)
$$;
REVOKE ALL ON FUNCTION comms.record_delivery(text, boolean, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION comms.record_delivery(text, boolean, text) TO oneclass_app;
