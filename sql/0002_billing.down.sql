DROP TABLE IF EXISTS notification_outbox;
DROP TABLE IF EXISTS stripe_subscriptions;
DROP TABLE IF EXISTS stripe_customers;
DROP TABLE IF EXISTS invoices;
DROP TABLE IF EXISTS entitlement_changes;
DROP FUNCTION IF EXISTS entitlement_changes_append_only();
DROP TABLE IF EXISTS user_entitlements;
DROP TABLE IF EXISTS payment_events;
