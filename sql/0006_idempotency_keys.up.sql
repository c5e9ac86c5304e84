-- Idempotency keys of Mini App requests that call a provider (checkout). The same key and body replays the
-- stored response; another body is refused; a key whose first request is still running is locked.
CREATE TABLE idempotency_keys (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id          bigint NOT NULL REFERENCES users (id),
    idempotency_key  text NOT NULL,
    request_path     text NOT NULL,
    request_hash     text NOT NULL,
    locked_at        timestamptz,
    recovery_point   text NOT NULL DEFAULT 'started',
    response_status  integer,
    response_body    jsonb,
    created_at       timestamptz NOT NULL DEFAULT now(),
    last_run_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT idempotency_keys_user_key UNIQUE (user_id, idempotency_key),
    CONSTRAINT idempotency_keys_key_length CHECK (length(idempotency_key) BETWEEN 1 AND 255),
    CONSTRAINT idempotency_keys_recovery_point_check CHECK (recovery_point IN ('started', 'finished')),
    CONSTRAINT idempotency_keys_finished_check CHECK (recovery_point <> 'finished' OR response_body IS NOT NULL)
);
CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at);
