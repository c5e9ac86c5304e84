-- Telegram: processed update ids and Stars refund intents.

-- Each update_id is handled once: the row is inserted in the same transaction as the update's effects.
-- Telegram's ids are not monotonic after long idle periods, so there is no high-water mark, only this key.
CREATE TABLE telegram_updates (
    update_id    bigint PRIMARY KEY,
    kind         text NOT NULL,
    received_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX telegram_updates_received_idx ON telegram_updates (received_at);

-- Refunds started by an operator: the intent is recorded before refundStarPayment is called, keyed by the
-- charge id, so concurrent requests make one call; a failed call can be retried.
CREATE TABLE stars_refunds (
    telegram_payment_charge_id  text PRIMARY KEY,
    user_id                     bigint NOT NULL REFERENCES users (id),
    status                      text NOT NULL DEFAULT 'requested',
    requested_by                text NOT NULL,
    last_error                  text,
    created_at                  timestamptz NOT NULL DEFAULT now(),
    completed_at                timestamptz,
    CONSTRAINT stars_refunds_status_check CHECK (status IN ('requested', 'refunded', 'failed'))
);
