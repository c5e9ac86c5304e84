-- Rows kept only as raw bytes get a jsonb payload holding those bytes (base64), so payload can be NOT NULL again.
UPDATE payment_events SET payload = jsonb_build_object('raw_body_base64', encode(raw_body, 'base64'))
WHERE payload IS NULL;
ALTER TABLE payment_events DROP CONSTRAINT payment_events_body_present;
ALTER TABLE payment_events ALTER COLUMN payload SET NOT NULL;
ALTER TABLE payment_events DROP COLUMN raw_body;
