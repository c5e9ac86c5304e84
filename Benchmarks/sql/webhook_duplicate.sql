-- pgbench -M prepared: what `telebot serve` runs for a Stripe event it has already applied: the ledger claim finds
-- the (provider, event_id) row and returns nothing, and the transaction commits without touching anything else
-- (PaymentLedger.claim; captured with scripts/bench-webhook --capture-sql). Event ids '1'..:duplicates are seeded
-- by Benchmarks/sql/webhook_seed.sql.

\set evt random(1, :duplicates)
BEGIN;
INSERT INTO payment_events (provider, event_id, event_type, status, attempts, payload, event_created,
    processed_at)
VALUES (:provider, :evt, :event_type, 'processed', 1, :payload, :created, now())
ON CONFLICT (provider, event_id) DO NOTHING
RETURNING id;
COMMIT;
