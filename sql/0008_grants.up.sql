-- Grants: what each paying object bought. Access to a plan is derived from its grants; user_entitlements stays as
-- the read model (one row per user and plan), recomputed by entitlement_recompute() in the same transaction as
-- every grant change, under that row's lock.

-- One row per paying object: a Stripe invoice, a Stripe one-time payment, a Stars charge, an admin request, or
-- a grace period after a failed Stripe renewal. UNIQUE (payment_key) is what makes a redelivered, retried or
-- reconciled payment grant once.
--   kind 'period'    absolute [period_start, period_end) (Stripe subscription invoices, Stars subscriptions)
--   kind 'duration'  `duration` laid after the access the user holds for the plan when it is bought
--                    (one-time payments, admin grants); later durations move up when an earlier grant is cut.
--   state            active, or what ended it: refunded, disputed (suspended while a dispute is open),
--                    charged_back (dispute lost), canceled, revoked (admin). Only 'active' grants give access.
--   cut_at           access from this grant ends here at the latest (its subscription ended or moved to
--                    another plan).
--   refs             every id a refund or dispute may name for this payment: 'in:<invoice>', 'pi:<payment
--                    intent>', 'ch:<charge>', 'cs:<checkout session>', 'stars:<charge id>'.
--   starts_at/ends_at  where the grant's days lie, as last computed (NULL while it gives nothing).
CREATE TABLE entitlement_grants (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id           bigint NOT NULL REFERENCES users (id),
    plan              text NOT NULL REFERENCES plans (code),
    source            text NOT NULL,
    payment_key       text NOT NULL,
    kind              text NOT NULL,
    grace             boolean NOT NULL DEFAULT false,
    purchased_at      timestamptz NOT NULL,
    period_start      timestamptz,
    period_end        timestamptz,
    duration          interval,
    cut_at            timestamptz,
    state             text NOT NULL DEFAULT 'active',
    subscription_ref  text,
    refs              text[] NOT NULL DEFAULT '{}',
    payment_event_id  bigint REFERENCES payment_events (id),
    starts_at         timestamptz,
    ends_at           timestamptz,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT entitlement_grants_payment_key UNIQUE (payment_key),
    CONSTRAINT entitlement_grants_source_check CHECK (source IN ('stripe', 'telegram_stars', 'admin')),
    CONSTRAINT entitlement_grants_kind_check CHECK (
        (kind = 'period' AND period_start IS NOT NULL AND period_end IS NOT NULL AND duration IS NULL)
        OR (kind = 'duration' AND duration IS NOT NULL AND duration > interval '0' AND period_start IS NULL
            AND period_end IS NULL)),
    CONSTRAINT entitlement_grants_state_check CHECK (
        state IN ('active', 'refunded', 'disputed', 'charged_back', 'canceled', 'revoked')),
    CONSTRAINT entitlement_grants_key_length CHECK (length(payment_key) BETWEEN 1 AND 300)
);
-- Room on each page for the recompute's update of starts_at/ends_at to stay a HOT update (no new index entries).
ALTER TABLE entitlement_grants SET (fillfactor = 70);
CREATE INDEX entitlement_grants_user_plan_idx ON entitlement_grants (user_id, plan, purchased_at);
CREATE INDEX entitlement_grants_refs_idx ON entitlement_grants USING gin (refs);
CREATE INDEX entitlement_grants_subscription_idx ON entitlement_grants (subscription_ref)
    WHERE subscription_ref IS NOT NULL;

-- Refund tombstones, one per id a refund named (charge, payment intent, invoice, Stars charge). A payment that
-- arrives after its refund finds its tombstone and grants nothing; a refund is final in any delivery order.
CREATE TABLE payment_refunds (
    ref               text PRIMARY KEY,
    payment_event_id  bigint REFERENCES payment_events (id),
    created_at        timestamptz NOT NULL DEFAULT now()
);

-- Stripe disputes: open suspends what the disputed payment bought, closed 'won' restores it, any other closed
-- status ends it. A closed dispute never reopens, whatever order its events arrive in.
CREATE TABLE stripe_disputes (
    dispute_id  text PRIMARY KEY,
    refs        text[] NOT NULL,
    status      text NOT NULL,
    closed      boolean NOT NULL DEFAULT false,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT stripe_disputes_status_check CHECK (status IN ('open', 'won', 'lost'))
);
CREATE INDEX stripe_disputes_refs_idx ON stripe_disputes USING gin (refs);

-- When a Stripe subscription ended (grants of it are cut there), and when it last moved to another plan.
ALTER TABLE stripe_subscriptions
    ADD COLUMN ended_at timestamptz,
    ADD COLUMN plan_changed_at timestamptz,
    ADD COLUMN previous_plan text;

-- Stars subscriptions, recorded at their first payment: renewals carry the first payment's invoice payload and are
-- applied from this row (user, plan), whatever the bot token is now.
CREATE TABLE stars_subscriptions (
    first_charge_id  text PRIMARY KEY,
    user_id          bigint NOT NULL REFERENCES users (id),
    plan             text NOT NULL REFERENCES plans (code),
    invoice_payload  text NOT NULL,
    expires_at       timestamptz,
    canceled         boolean NOT NULL DEFAULT false,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX stars_subscriptions_payload_idx ON stars_subscriptions (user_id, invoice_payload);

-- Which grant change an audit row records.
ALTER TABLE entitlement_changes ADD COLUMN grant_id bigint REFERENCES entitlement_grants (id);

-- The state a payment's grant must have given the refunds and disputes already recorded for any of its refs.
CREATE FUNCTION grant_reversal_state(p_refs text[]) RETURNS text LANGUAGE sql STABLE AS $$
    SELECT CASE
        WHEN EXISTS (SELECT 1 FROM payment_refunds WHERE ref = ANY (p_refs)) THEN 'refunded'
        WHEN EXISTS (SELECT 1 FROM stripe_disputes WHERE refs && p_refs AND status = 'lost') THEN 'charged_back'
        WHEN EXISTS (SELECT 1 FROM stripe_disputes WHERE refs && p_refs AND status = 'open') THEN 'disputed'
        ELSE 'active'
    END
$$;

-- Recomputes one (user, plan) from its grants, under the user_entitlements row lock (created when missing):
-- lays out the grants, stores each grant's starts_at/ends_at, writes the row and, when it changed, one
-- entitlement_changes row. Deterministic: it reads no clock, so the result depends only on the grants, never on
-- the order their events arrived in.
--   status   while some grant gives days: active, or past_due when the access ends with a grace grant, or canceled
--            when it ends where a grant was cut (its subscription ended or changed plan); with none: revoked (the
--            latest grant was refunded, charged back, disputed or revoked), canceled (it was cut or canceled), or
--            expired. Time expiry is read at query time from expires_at.
--   expires_at  where the union of the live grants ends; with none, the latest grant's purchase time.
CREATE FUNCTION entitlement_recompute(
    p_user bigint, p_plan text, p_actor text, p_reason text, p_event bigint, p_grant bigint
) RETURNS TABLE (status text, expires_at timestamptz, changed boolean)
LANGUAGE plpgsql AS $$
DECLARE
    row_before  record;
    g           record;
    iv_start    timestamptz[] := '{}';
    iv_end      timestamptz[] := '{}';
    s           timestamptz;
    e           timestamptz;
    held        timestamptz;
    moved       boolean;
    last_end    timestamptz;
    last_grace  boolean := false;
    last_cut    boolean := false;
    was_cut     boolean;
    last_source text;
    first_start timestamptz;
    latest      record;
    new_status  text;
    new_expires timestamptz;
    new_starts  timestamptz;
    new_source  text;
    action      text;
BEGIN
    INSERT INTO user_entitlements AS ue (user_id, plan, status, source, starts_at, expires_at)
    VALUES (p_user, p_plan, 'expired', 'admin', '-infinity', '-infinity')
    ON CONFLICT (user_id, plan) DO UPDATE SET updated_at = ue.updated_at
    RETURNING ue.id, ue.status, ue.source, ue.starts_at, ue.expires_at, (ue.xmax = 0) AS inserted INTO row_before;

    FOR g IN
        SELECT * FROM entitlement_grants eg
        WHERE eg.user_id = p_user AND eg.plan = p_plan
        ORDER BY eg.purchased_at, eg.payment_key COLLATE "C"
    LOOP
        latest := g;
        s := NULL;
        e := NULL;
        was_cut := false;
        IF g.state = 'active' THEN
            IF g.kind = 'period' THEN
                s := g.period_start;
                e := g.period_end;
            ELSE
                held := g.purchased_at;
                LOOP
                    moved := false;
                    FOR i IN 1 .. coalesce(array_length(iv_start, 1), 0) LOOP
                        IF iv_start[i] <= held AND iv_end[i] > held THEN
                            held := iv_end[i];
                            moved := true;
                        END IF;
                    END LOOP;
                    EXIT WHEN NOT moved;
                END LOOP;
                s := held;
                e := held + g.duration;
            END IF;
            IF g.cut_at IS NOT NULL AND g.cut_at <= e THEN
                e := g.cut_at;
                was_cut := true;
            END IF;
            IF e <= s THEN
                s := NULL;
                e := NULL;
            END IF;
        END IF;
        IF s IS NOT NULL THEN
            iv_start := iv_start || s;
            iv_end := iv_end || e;
            IF first_start IS NULL OR s < first_start THEN first_start := s; END IF;
            IF last_end IS NULL OR e > last_end OR (e = last_end AND (last_grace OR last_cut) AND NOT g.grace AND NOT was_cut) THEN
                last_end := e;
                last_grace := g.grace;
                last_cut := was_cut;
                last_source := g.source;
            END IF;
        END IF;
        IF g.starts_at IS DISTINCT FROM s OR g.ends_at IS DISTINCT FROM e THEN
            UPDATE entitlement_grants SET starts_at = s, ends_at = e, updated_at = now() WHERE id = g.id;
        END IF;
    END LOOP;

    IF last_end IS NOT NULL THEN
        new_status := CASE WHEN last_cut THEN 'canceled' WHEN last_grace THEN 'past_due' ELSE 'active' END;
        new_expires := last_end;
        new_starts := first_start;
        new_source := last_source;
    ELSIF latest IS NULL THEN
        new_status := 'expired';
        new_expires := row_before.expires_at;
        new_starts := row_before.starts_at;
        new_source := row_before.source;
    ELSE
        new_status := CASE
            WHEN latest.state IN ('refunded', 'charged_back', 'disputed', 'revoked') THEN 'revoked'
            WHEN latest.state = 'canceled' OR latest.cut_at IS NOT NULL THEN 'canceled'
            ELSE 'expired' END;
        new_expires := latest.purchased_at;
        new_starts := latest.purchased_at;
        new_source := latest.source;
    END IF;

    IF NOT row_before.inserted AND row_before.status = new_status AND row_before.expires_at = new_expires
        AND row_before.starts_at = new_starts AND row_before.source = new_source THEN
        RETURN QUERY SELECT new_status, new_expires, false;
        RETURN;
    END IF;

    UPDATE user_entitlements SET status = new_status, expires_at = new_expires, starts_at = new_starts,
        source = new_source, updated_at = now()
    WHERE id = row_before.id;
    action := CASE
        WHEN row_before.inserted THEN 'grant'
        WHEN new_status = 'revoked' AND row_before.status <> 'revoked' THEN 'revoke'
        WHEN new_status <> row_before.status THEN 'status'
        ELSE 'extend' END;
    INSERT INTO entitlement_changes (entitlement_id, user_id, plan, action, actor, reason, payment_event_id,
        before_status, after_status, before_expires_at, after_expires_at, grant_id)
    VALUES (row_before.id, p_user, p_plan, action, p_actor, p_reason, p_event,
        CASE WHEN row_before.inserted THEN NULL ELSE row_before.status END, new_status,
        CASE WHEN row_before.inserted THEN NULL ELSE row_before.expires_at END, new_expires, p_grant);
    RETURN QUERY SELECT new_status, new_expires, true;
END;
$$;

-- Existing access becomes grants without losing a paid day: each row that still gives access is one period grant
-- over exactly what it gives; rows that give nothing keep their status through a grant in the matching state.
INSERT INTO entitlement_grants (user_id, plan, source, payment_key, kind, purchased_at, period_start, period_end,
    state, starts_at, ends_at)
SELECT user_id, plan, source, 'migrated:' || id, 'period', starts_at, starts_at, greatest(expires_at, starts_at + interval '1 second'),
    CASE status WHEN 'active' THEN 'active' WHEN 'past_due' THEN 'active' WHEN 'canceled' THEN 'canceled'
        WHEN 'revoked' THEN 'revoked' ELSE 'active' END,
    starts_at, greatest(expires_at, starts_at + interval '1 second')
FROM user_entitlements;
