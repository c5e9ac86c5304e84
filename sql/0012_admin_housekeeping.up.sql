-- Operators: Stripe refunds from the admin API, the one-customer lookup, and housekeeping that keeps tables from
-- growing forever.

-- Stripe refunds started by an operator (POST /admin/v1/stripe/refunds): the intent is recorded, keyed by the
-- payment it names ('in:<invoice>' or 'pi:<payment intent>'), before Stripe's POST /v1/refunds is called, so
-- concurrent requests make one call. attempt numbers the calls (the Stripe Idempotency-Key includes it, so a
-- failed call can be retried with a fresh key; Stripe itself refuses to refund a charge twice).
CREATE TABLE stripe_refunds (
    payment_ref   text PRIMARY KEY,
    user_id       bigint REFERENCES users (id),
    status        text NOT NULL DEFAULT 'requested',
    attempt       integer NOT NULL DEFAULT 1,
    reason        text,
    requested_by  text NOT NULL,
    refund_id     text,
    last_error    text,
    claimed_at    timestamptz NOT NULL DEFAULT now(),
    created_at    timestamptz NOT NULL DEFAULT now(),
    completed_at  timestamptz,
    CONSTRAINT stripe_refunds_status_check CHECK (status IN ('requested', 'refunded', 'failed')),
    CONSTRAINT stripe_refunds_ref_length CHECK (length(payment_ref) BETWEEN 4 AND 300)
);

-- Payloads of processed events are dropped after PAYLOAD_RETENTION_DAYS; the row (ids, type, status, times)
-- stays, and payload_purged_at says why its body is gone.
ALTER TABLE payment_events ADD COLUMN payload_purged_at timestamptz;
ALTER TABLE payment_events DROP CONSTRAINT payment_events_body_present;
ALTER TABLE payment_events ADD CONSTRAINT payment_events_body_present
    CHECK (payload IS NOT NULL OR raw_body IS NOT NULL OR payload_purged_at IS NOT NULL);
-- Finding the next batch of payloads to drop without scanning the purged ones.
CREATE INDEX payment_events_payload_purge_idx ON payment_events (received_at)
    WHERE payload_purged_at IS NULL AND status IN ('processed', 'ignored');
-- GET /admin/v1/payment-events pages newest first over everything (the status index covers a status filter).
CREATE INDEX payment_events_received_idx ON payment_events (received_at DESC, id DESC);

-- The lookup: a user's audit trail and grants, newest first.
CREATE INDEX entitlement_changes_user_idx ON entitlement_changes (user_id, id DESC);
-- Username search (prefix, case-insensitive).
CREATE INDEX users_username_lower_idx ON users (lower(username) text_pattern_ops) WHERE username IS NOT NULL;
