-- pgbench -M prepared: what `telebot serve` runs for ONE new Stripe `invoice.paid` event (a renewal: the user's
-- subscription exists), statement for statement, in one transaction. The statement texts are the handler's own
-- (PaymentLedger.claim with PlanStore.pricedPlanQuery in its batch, GrantStore.lockPayments, InvoiceStore.upsert,
-- GrantStore.apply's insert and its recompute -> entitlement_recompute()), captured with log_statement=all
-- (scripts/bench-webhook --capture-sql); only `$n` became `:variable`. Values the server gets from the event are
-- pgbench variables: constants from -D (scripts/bench-webhook sets them, the payload is an event body as the load
-- generator sends it) and random ids: a fresh event id and provider invoice id per transaction, a random seeded user.
-- Results the server reads back and binds later (the ledger row id) are taken with \gset. The texts
-- the server binds per event (the payment key, the refs array, the subscription id) are built in SQL from :evt and
-- :uid, since pgbench cannot make per-transaction strings (and `:` inside them is written \x3a: pgbench would read
-- `:invoice` in a literal as a variable): --capture-sql reports those expressions as differences.

\set uid random(1, :users)
\set evt random(1000000000000, 9000000000000000000)
BEGIN;
INSERT INTO payment_events (provider, event_id, event_type, status, attempts, payload, event_created,
    processed_at)
VALUES (:provider, :evt, :event_type, 'processed', 1, :payload, :created, now())
ON CONFLICT (provider, event_id) DO NOTHING
RETURNING id \gset ev_
SELECT code, name, period_days, stripe_price_id, stars_price, recurring, active, trial_days, allow_promotion_codes, automatic_tax FROM plans
WHERE stripe_price_id = ANY(ARRAY[:price]::text[]) OR code = :plan
ORDER BY array_position(ARRAY[:price]::text[], stripe_price_id) NULLS LAST
LIMIT 1;
SELECT count(pg_advisory_xact_lock(h)) FROM (
    SELECT DISTINCT hashtextextended(r, 8008) AS h FROM unnest(ARRAY[E'in\x3a' || (:evt)::text]::text[]) AS r ORDER BY 1) AS locks;
INSERT INTO invoices AS i (provider, provider_invoice_id, user_id, plan, amount, currency, status,
    hosted_url, period_start, period_end, created_at)
VALUES (:provider, :evt, :uid, :plan,
    :amount, :currency, :invoice_status, :hosted_url,
    :period_start, :period_end, :created)
ON CONFLICT (provider, provider_invoice_id) DO UPDATE SET
    status = CASE WHEN (CASE EXCLUDED.status WHEN 'draft' THEN 0 WHEN 'open' THEN 1 WHEN 'past_due' THEN 2 WHEN 'uncollectible' THEN 3 WHEN 'paid' THEN 4 WHEN 'void' THEN 4 WHEN 'refunded' THEN 5 END)
                       >= (CASE i.status WHEN 'draft' THEN 0 WHEN 'open' THEN 1 WHEN 'past_due' THEN 2 WHEN 'uncollectible' THEN 3 WHEN 'paid' THEN 4 WHEN 'void' THEN 4 WHEN 'refunded' THEN 5 END)
                  THEN EXCLUDED.status ELSE i.status END,
    amount = EXCLUDED.amount,
    plan = coalesce(EXCLUDED.plan, i.plan),
    hosted_url = coalesce(EXCLUDED.hosted_url, i.hosted_url),
    period_start = coalesce(EXCLUDED.period_start, i.period_start),
    period_end = coalesce(EXCLUDED.period_end, i.period_end),
    updated_at = now();
WITH v AS MATERIALIZED (
    SELECT (SELECT CASE WHEN s.plan IS DISTINCT FROM (:plan)::text AND s.plan_changed_at > (:period_start)::timestamptz
                        THEN least(s.ended_at, s.plan_changed_at) ELSE s.ended_at END
            FROM stripe_subscriptions s WHERE s.subscription_id = 'sub_bench_' || (:uid)::text) AS cut,
           grant_reversal_state(ARRAY[E'in\x3a' || (:evt)::text]::text[]) AS state,
           (:period_start)::timestamptz AS ps, (:period_end)::timestamptz AS pe)
INSERT INTO entitlement_grants (user_id, plan, source, payment_key, kind, grace, purchased_at, period_start,
    period_end, duration, cut_at, state, subscription_ref, refs, payment_event_id, starts_at, ends_at)
SELECT (:uid)::bigint, (:plan)::text, (:provider)::text, E'stripe\x3ainvoice\x3a' || (:evt)::text, 'period', false,
    (:period_start)::timestamptz, v.ps, v.pe, make_interval(secs => NULL), v.cut, v.state,
    'sub_bench_' || (:uid)::text, ARRAY[E'in\x3a' || (:evt)::text]::text[], (:ev_id)::bigint,
    CASE WHEN v.state = 'active' AND least(v.pe, v.cut) > v.ps THEN v.ps END,
    CASE WHEN v.state = 'active' AND least(v.pe, v.cut) > v.ps THEN least(v.pe, v.cut) END
FROM v
ON CONFLICT (payment_key) DO NOTHING
RETURNING id, state;
SELECT g.id, g.state, r.status, r.expires_at, r.changed
FROM entitlement_grants g,
     LATERAL entitlement_recompute(g.user_id, g.plan, :provider, :reason, :ev_id, g.id) AS r
WHERE g.payment_key = E'stripe\x3ainvoice\x3a' || (:evt)::text AND g.payment_event_id = :ev_id;
INSERT INTO notification_outbox (event_key, effect, user_id, message, kind, button)
VALUES (E'stripe\x3ainvoice\x3a' || (:evt)::text, 'renewal_received', (:uid)::bigint,
        'Thank you! Your Premium, monthly subscription renewed: payment of 9.99 USD received. Access until 5 Jan 2027.',
        'renewal_received', 'web_app')
ON CONFLICT (event_key, effect) DO NOTHING;
COMMIT;
