DROP TABLE IF EXISTS stars_refunds;
DROP TABLE IF EXISTS telegram_updates;
