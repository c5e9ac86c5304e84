DROP TABLE IF EXISTS miniapp_sessions;
