-- When the current owner of a Stars refund intent claimed it. An intent left in 'requested' by an instance
-- that died mid-call can be taken over once this is old enough (a second refundStarPayment call for the
-- same charge is refused by Telegram, so a takeover never refunds twice).
ALTER TABLE stars_refunds ADD COLUMN claimed_at timestamptz NOT NULL DEFAULT now();
