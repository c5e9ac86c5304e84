-- Back to one mutable row per (user, plan): user_entitlements already holds the access the grants gave (it is
-- their read model), so dropping the grants loses no paid day.
ALTER TABLE entitlement_changes DROP COLUMN grant_id;
DROP FUNCTION entitlement_recompute(bigint, text, text, text, bigint, bigint);
DROP FUNCTION grant_reversal_state(text[]);
DROP TABLE stars_subscriptions;
ALTER TABLE stripe_subscriptions
    DROP COLUMN ended_at,
    DROP COLUMN plan_changed_at,
    DROP COLUMN previous_plan;
DROP TABLE stripe_disputes;
DROP TABLE payment_refunds;
DROP TABLE entitlement_grants;
