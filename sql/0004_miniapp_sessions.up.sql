-- Mini App sessions: one row per access token issued by POST /api/v1/miniapp/auth. The token (an HS256 JWT)
-- names its row by `jti`; verification refuses tokens whose row is missing, revoked or expired.
CREATE TABLE miniapp_sessions (
    jti         uuid PRIMARY KEY,
    user_id     bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    revoked_at  timestamptz,
    user_agent  text,
    CONSTRAINT miniapp_sessions_user_agent_length CHECK (user_agent IS NULL OR length(user_agent) <= 512),
    CONSTRAINT miniapp_sessions_expiry_after_creation CHECK (expires_at > created_at)
);
-- "All sessions of a user" (log out everywhere) and the foreign key's deletes.
CREATE INDEX miniapp_sessions_user_id_idx ON miniapp_sessions (user_id);
-- Purging expired rows.
CREATE INDEX miniapp_sessions_expires_at_idx ON miniapp_sessions (expires_at);
