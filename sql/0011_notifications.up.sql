-- Messages to subscribers: what kind each outbox row is (the `kind` label of notifications_sent_total) and which
-- button it carries (the Mini App as a web_app button, or the Stripe billing portal, whose short-lived URL is made
-- when the message is sent). A user who blocked the bot (Telegram answers 403) is remembered on `users` and their
-- messages are set aside as 'blocked' instead of being retried.
ALTER TABLE notification_outbox
    ADD COLUMN kind text NOT NULL DEFAULT 'notice',
    ADD COLUMN button text NOT NULL DEFAULT 'web_app',
    ADD CONSTRAINT notification_outbox_button_check CHECK (button IN ('web_app', 'portal', 'none'));
ALTER TABLE notification_outbox DROP CONSTRAINT notification_outbox_status_check;
ALTER TABLE notification_outbox
    ADD CONSTRAINT notification_outbox_status_check CHECK (status IN ('pending', 'sent', 'dead', 'blocked'));

ALTER TABLE users ADD COLUMN bot_blocked_at timestamptz;

-- Checkout options from the plan catalog (`trial_days`, `allow_promotion_codes`, `automatic_tax`), sent to Stripe
-- Checkout. A trial only makes sense for a recurring plan.
ALTER TABLE plans
    ADD COLUMN trial_days integer,
    ADD COLUMN allow_promotion_codes boolean NOT NULL DEFAULT false,
    ADD COLUMN automatic_tax boolean NOT NULL DEFAULT false,
    ADD CONSTRAINT plans_trial_days_range CHECK (trial_days IS NULL OR trial_days BETWEEN 1 AND 730);
