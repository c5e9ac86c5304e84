-- Rows the webhook benchmark's events need (scripts/bench-webhook runs this with psql -v users=N -v plan=CODE
-- -v duplicates=K, after `telebot plans sync` created the plan).
--
-- Users 1..N (Telegram ids 7000000001..) each with a Stripe customer cus_bench_<id>, an active subscription
-- sub_bench_<id>, and an active entitlement to the plan: an `invoice.paid` for user i is then a renewal, as most
-- of them are in production. pgbench cannot build strings, so its events carry the subscription id '<id>' (the user
-- id as text): those subscriptions are seeded too, so both tools' lookups find a row.
-- payment_events '1'..'K' (provider stripe) are already-applied events for pgbench's duplicate script.

\set ON_ERROR_STOP on

INSERT INTO users (id, telegram_user_id, username, first_name, language_code)
OVERRIDING SYSTEM VALUE
SELECT g, 7000000000 + g, 'bench' || g, 'Bench', 'en' FROM generate_series(1, :users) AS g;
SELECT setval(pg_get_serial_sequence('users', 'id'), (SELECT max(id) FROM users));

INSERT INTO stripe_customers (user_id, customer_id)
SELECT g, 'cus_bench_' || g FROM generate_series(1, :users) AS g;

INSERT INTO stripe_subscriptions (subscription_id, user_id, customer_id, plan, status, current_period_end,
    last_event_created)
SELECT s.id, g, 'cus_bench_' || g, :'plan', 'active', now() + interval '30 days', now() - interval '1 day'
FROM generate_series(1, :users) AS g, LATERAL (VALUES ('sub_bench_' || g), (g::text)) AS s (id);

INSERT INTO user_entitlements (user_id, plan, status, source, starts_at, expires_at)
SELECT g, :'plan', 'active', 'stripe', now() - interval '1 day', now() + interval '29 days'
FROM generate_series(1, :users) AS g;

INSERT INTO payment_events (provider, event_id, event_type, status, attempts, payload, event_created, processed_at)
SELECT 'stripe', g::text, 'invoice.paid', 'processed', 1, '{"seed": true}', now(), now()
FROM generate_series(1, :duplicates) AS g;

VACUUM ANALYZE;
