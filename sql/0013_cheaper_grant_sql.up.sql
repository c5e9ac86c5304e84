-- The same rules as 0008, cheaper per payment (issue #20: PostgreSQL CPU per new invoice.paid).
--
-- grant_reversal_state: an SQL function whose body has sub-selects is never inlined, and a non-inlined SQL function
-- plans its statement again on every call (~90 µs). In PL/pgSQL the plans are made once per session.
CREATE OR REPLACE FUNCTION grant_reversal_state(p_refs text[]) RETURNS text LANGUAGE plpgsql STABLE AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM payment_refunds WHERE ref = ANY (p_refs)) THEN
        RETURN 'refunded';
    ELSIF EXISTS (SELECT 1 FROM stripe_disputes WHERE refs && p_refs AND status = 'lost') THEN
        RETURN 'charged_back';
    ELSIF EXISTS (SELECT 1 FROM stripe_disputes WHERE refs && p_refs AND status = 'open') THEN
        RETURN 'disputed';
    END IF;
    RETURN 'active';
END;
$$;

-- entitlement_recompute: the read-model row was locked by an upsert that wrote a new row version on every payment
-- (ON CONFLICT DO UPDATE). It is now locked with SELECT ... FOR UPDATE, the same lock on the same row, and the
-- upsert only runs when the row does not exist yet. The rest is 0008's function unchanged.
CREATE OR REPLACE FUNCTION entitlement_recompute(
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
    -- The row lock, taken without writing a new row version when the row exists (the common case).
    SELECT ue.id, ue.status, ue.source, ue.starts_at, ue.expires_at, false AS inserted INTO row_before
    FROM user_entitlements ue WHERE ue.user_id = p_user AND ue.plan = p_plan
    FOR UPDATE;
    IF NOT FOUND THEN
        INSERT INTO user_entitlements AS ue (user_id, plan, status, source, starts_at, expires_at)
        VALUES (p_user, p_plan, 'expired', 'admin', '-infinity', '-infinity')
        ON CONFLICT (user_id, plan) DO UPDATE SET updated_at = ue.updated_at
        RETURNING ue.id, ue.status, ue.source, ue.starts_at, ue.expires_at, (ue.xmax = 0) AS inserted INTO row_before;
    END IF;

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
