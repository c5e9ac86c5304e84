-- pgbench -M prepared: what `telebot serve` runs for ONE new Stripe `invoice.paid` event (a renewal: the user's
-- entitlement exists), statement for statement, in one transaction. The statement texts are the handler's own
-- (PaymentLedger.claim, PlanStore.plan, InvoiceStore.upsert, StripeSubscriptionSync.endedAfter,
-- EntitlementStore.lock and .apply as .grant calls it), captured with log_statement=all
-- (scripts/bench-webhook --capture-sql); only `$n` became `:variable`. Values the server gets from the event are
-- pgbench variables: constants from -D (scripts/bench-webhook sets them, the payload is an event body as the load
-- generator sends it) and random ids: a fresh event id and provider invoice id per transaction, a random seeded user.
-- Results the server reads back and binds later (ledger row id, the locked entitlement) are taken with \gset.

\set uid random(1, :users)
\set evt random(1000000000000, 9000000000000000000)
BEGIN;
INSERT INTO payment_events (provider, event_id, event_type, status, attempts, payload, event_created,
    processed_at)
VALUES (:provider, :evt, :event_type, 'processed', 1, :payload, :created, now())
ON CONFLICT (provider, event_id) DO NOTHING
RETURNING id \gset ev_
SELECT code, name, period_days, stripe_price_id, stars_price, recurring, active FROM plans WHERE code = :plan;
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
    updated_at = now()
RETURNING id, provider, provider_invoice_id, user_id, plan, amount, currency, status, hosted_url, period_start, period_end, created_at;
SELECT 1 AS ended FROM stripe_subscriptions
WHERE subscription_id = :uid AND status IN ('canceled', 'incomplete_expired')
  AND last_event_created > :created
FOR SHARE;
INSERT INTO user_entitlements AS e (user_id, plan, status, source, expires_at)
VALUES (:uid, :plan, 'expired', :provider, now())
ON CONFLICT (user_id, plan) DO UPDATE SET updated_at = e.updated_at
RETURNING id, status, expires_at, (xmax = 0) AS inserted \gset lk_
WITH updated AS (UPDATE user_entitlements SET status = 'active', source = :provider,
starts_at = CASE WHEN (status NOT IN ('active', 'past_due') OR expires_at <= now() OR false) THEN now() ELSE starts_at END,
expires_at = greatest(CASE WHEN :lk_inserted THEN now() ELSE expires_at END, :period_end) , updated_at = now() WHERE id = :lk_id RETURNING id, user_id, plan, status, expires_at)
INSERT INTO entitlement_changes (entitlement_id, user_id, plan, action, actor, reason, payment_event_id,
    before_status, after_status, before_expires_at, after_expires_at)
SELECT id, user_id, plan, :action, :provider, :reason, :ev_id,
    :lk_status, status, :lk_expires_at, expires_at
FROM updated
RETURNING id, after_status, after_expires_at;
COMMIT;
