ALTER TABLE stars_refunds DROP COLUMN IF EXISTS claimed_at;
