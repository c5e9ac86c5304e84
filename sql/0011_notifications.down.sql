ALTER TABLE plans
    DROP CONSTRAINT plans_trial_days_range,
    DROP COLUMN automatic_tax,
    DROP COLUMN allow_promotion_codes,
    DROP COLUMN trial_days;

ALTER TABLE users DROP COLUMN bot_blocked_at;

-- Rows set aside for a blocked user become 'dead' (what they were before 'blocked' existed).
UPDATE notification_outbox SET status = 'dead' WHERE status = 'blocked';
ALTER TABLE notification_outbox DROP CONSTRAINT notification_outbox_status_check;
ALTER TABLE notification_outbox
    ADD CONSTRAINT notification_outbox_status_check CHECK (status IN ('pending', 'sent', 'dead'));
ALTER TABLE notification_outbox
    DROP CONSTRAINT notification_outbox_button_check,
    DROP COLUMN button,
    DROP COLUMN kind;
