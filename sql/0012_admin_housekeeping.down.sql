DROP INDEX IF EXISTS users_username_lower_idx;
DROP INDEX IF EXISTS entitlement_changes_user_idx;
DROP INDEX IF EXISTS payment_events_received_idx;
DROP INDEX IF EXISTS payment_events_payload_purge_idx;
-- Rows whose payload was purged get an empty object back, so the old constraint holds again.
UPDATE payment_events SET payload = '{}'::jsonb WHERE payload IS NULL AND raw_body IS NULL;
ALTER TABLE payment_events DROP CONSTRAINT payment_events_body_present;
ALTER TABLE payment_events ADD CONSTRAINT payment_events_body_present CHECK (payload IS NOT NULL OR raw_body IS NOT NULL);
ALTER TABLE payment_events DROP COLUMN payload_purged_at;
DROP TABLE stripe_refunds;
