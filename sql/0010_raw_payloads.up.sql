-- No authenticated webhook body is lost: one that cannot be decoded, or that jsonb cannot hold (a \u0000 escape,
-- invalid UTF-8), is kept byte for byte in raw_body with status 'dead' and payload NULL, for an operator to read and
-- replay after a fix (POST /admin/v1/payment-events/{id}/retry).
ALTER TABLE payment_events ADD COLUMN raw_body bytea;
ALTER TABLE payment_events ALTER COLUMN payload DROP NOT NULL;
ALTER TABLE payment_events ADD CONSTRAINT payment_events_body_present CHECK (payload IS NOT NULL OR raw_body IS NOT NULL);
