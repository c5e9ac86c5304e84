-- Billing: the payment ledger, entitlements and their audit trail, invoices, Stripe links, notification outbox.

-- Every payment-side event from any provider passes through here exactly once: Stripe event ids, Telegram Stars
-- charge ids and refunds. UNIQUE (provider, event_id) is what makes a duplicate delivery a no-op.
CREATE TABLE payment_events (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    provider         text NOT NULL,
    event_id         text NOT NULL,
    event_type       text NOT NULL,
    status           text NOT NULL DEFAULT 'received',
    attempts         integer NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz,
    last_error       text,
    payload          jsonb NOT NULL,
    event_created    timestamptz,
    received_at      timestamptz NOT NULL DEFAULT now(),
    processed_at     timestamptz,
    CONSTRAINT payment_events_provider_event_id_key UNIQUE (provider, event_id),
    CONSTRAINT payment_events_provider_check CHECK (provider IN ('stripe', 'telegram_stars')),
    CONSTRAINT payment_events_status_check CHECK (status IN ('received', 'processed', 'failed', 'ignored', 'dead')),
    CONSTRAINT payment_events_event_id_length CHECK (length(event_id) BETWEEN 1 AND 255),
    CONSTRAINT payment_events_event_type_length CHECK (length(event_type) BETWEEN 1 AND 255),
    CONSTRAINT payment_events_attempts_check CHECK (attempts >= 0),
    CONSTRAINT payment_events_retry_check CHECK (status <> 'failed' OR next_attempt_at IS NOT NULL)
);
CREATE INDEX payment_events_retry_idx ON payment_events (next_attempt_at) WHERE status = 'failed';
CREATE INDEX payment_events_status_idx ON payment_events (status, received_at DESC);

-- One row per (user, plan). Expiry is read from expires_at at query time, so no cron is needed for correctness.
CREATE TABLE user_entitlements (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id     bigint NOT NULL REFERENCES users (id),
    plan        text NOT NULL REFERENCES plans (code),
    status      text NOT NULL,
    source      text NOT NULL,
    starts_at   timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT user_entitlements_user_plan_key UNIQUE (user_id, plan),
    CONSTRAINT user_entitlements_status_check CHECK (status IN ('active', 'past_due', 'canceled', 'revoked', 'expired')),
    CONSTRAINT user_entitlements_source_check CHECK (source IN ('stripe', 'telegram_stars', 'admin'))
);
CREATE INDEX user_entitlements_user_idx ON user_entitlements (user_id, expires_at DESC);

-- Append-only audit of every entitlement change: who, what, why, before and after, and the payment event.
CREATE TABLE entitlement_changes (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    entitlement_id     bigint NOT NULL REFERENCES user_entitlements (id),
    user_id            bigint NOT NULL REFERENCES users (id),
    plan               text NOT NULL,
    action             text NOT NULL,
    actor              text NOT NULL,
    reason             text NOT NULL,
    payment_event_id   bigint REFERENCES payment_events (id),
    before_status      text,
    after_status       text NOT NULL,
    before_expires_at  timestamptz,
    after_expires_at   timestamptz NOT NULL,
    created_at         timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT entitlement_changes_action_check CHECK (action IN ('grant', 'extend', 'revoke', 'status')),
    CONSTRAINT entitlement_changes_actor_check CHECK (actor IN ('stripe', 'telegram_stars', 'admin', 'system')),
    CONSTRAINT entitlement_changes_reason_length CHECK (length(reason) BETWEEN 1 AND 500)
);
CREATE INDEX entitlement_changes_entitlement_idx ON entitlement_changes (entitlement_id, id);
CREATE INDEX entitlement_changes_event_idx ON entitlement_changes (payment_event_id) WHERE payment_event_id IS NOT NULL;

CREATE FUNCTION entitlement_changes_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'entitlement_changes is append-only' USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER entitlement_changes_no_update BEFORE UPDATE OR DELETE ON entitlement_changes
    FOR EACH ROW EXECUTE FUNCTION entitlement_changes_append_only();

-- Invoices of both providers. Amounts are integers in the currency's minor unit (Stars: whole Stars).
CREATE TABLE invoices (
    id                   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    provider             text NOT NULL,
    provider_invoice_id  text NOT NULL,
    user_id              bigint NOT NULL REFERENCES users (id),
    plan                 text REFERENCES plans (code),
    amount               bigint NOT NULL,
    currency             text NOT NULL,
    status               text NOT NULL,
    hosted_url           text,
    period_start         timestamptz,
    period_end           timestamptz,
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT invoices_provider_invoice_key UNIQUE (provider, provider_invoice_id),
    CONSTRAINT invoices_provider_check CHECK (provider IN ('stripe', 'telegram_stars')),
    CONSTRAINT invoices_status_check CHECK (status IN ('draft', 'open', 'paid', 'past_due', 'uncollectible', 'void', 'refunded')),
    CONSTRAINT invoices_amount_check CHECK (amount >= 0),
    CONSTRAINT invoices_currency_check CHECK (currency ~ '^[A-Z]{3}$')
);
CREATE INDEX invoices_user_page_idx ON invoices (user_id, created_at DESC, id DESC);

CREATE TABLE stripe_customers (
    user_id      bigint PRIMARY KEY REFERENCES users (id),
    customer_id  text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT stripe_customers_customer_id_key UNIQUE (customer_id)
);

-- Subscription state as Stripe last told it. last_event_created is the watermark that keeps an older event
-- from overwriting state set by a newer one.
CREATE TABLE stripe_subscriptions (
    subscription_id       text PRIMARY KEY,
    user_id               bigint NOT NULL REFERENCES users (id),
    customer_id           text NOT NULL,
    plan                  text REFERENCES plans (code),
    status                text NOT NULL,
    current_period_end    timestamptz,
    cancel_at_period_end  boolean NOT NULL DEFAULT false,
    last_event_created    timestamptz NOT NULL,
    created_at            timestamptz NOT NULL DEFAULT now(),
    updated_at            timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX stripe_subscriptions_user_idx ON stripe_subscriptions (user_id);

-- Messages to users caused by payment events, written in the event's transaction and sent afterwards.
-- UNIQUE (event_key, effect): a reprocessed or duplicate event never queues a second message.
CREATE TABLE notification_outbox (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_key        text NOT NULL,
    effect           text NOT NULL,
    user_id          bigint NOT NULL REFERENCES users (id),
    message          text NOT NULL,
    status           text NOT NULL DEFAULT 'pending',
    attempts         integer NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    last_error       text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    sent_at          timestamptz,
    CONSTRAINT notification_outbox_event_effect_key UNIQUE (event_key, effect),
    CONSTRAINT notification_outbox_status_check CHECK (status IN ('pending', 'sent', 'dead')),
    CONSTRAINT notification_outbox_message_length CHECK (length(message) BETWEEN 1 AND 4096)
);
CREATE INDEX notification_outbox_pending_idx ON notification_outbox (next_attempt_at) WHERE status = 'pending';
