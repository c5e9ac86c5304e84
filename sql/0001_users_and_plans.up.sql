-- Users seen through Telegram (bot updates, Mini App logins) and the plan catalog.

CREATE TABLE users (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    telegram_user_id  bigint NOT NULL,
    username          text,
    first_name        text,
    last_name         text,
    language_code     text,
    is_premium        boolean NOT NULL DEFAULT false,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT users_telegram_user_id_key UNIQUE (telegram_user_id),
    CONSTRAINT users_telegram_user_id_check CHECK (telegram_user_id > 0),
    CONSTRAINT users_username_length CHECK (username IS NULL OR length(username) <= 64),
    CONSTRAINT users_first_name_length CHECK (first_name IS NULL OR length(first_name) <= 256),
    CONSTRAINT users_last_name_length CHECK (last_name IS NULL OR length(last_name) <= 256),
    CONSTRAINT users_language_code_length CHECK (language_code IS NULL OR length(language_code) <= 35)
);

-- A plan's code is also the entitlement type it grants. Plans are never deleted (entitlements reference them);
-- plans missing from the catalog file are marked inactive.
CREATE TABLE plans (
    code             text PRIMARY KEY,
    name             text NOT NULL,
    period_days      integer NOT NULL,
    stripe_price_id  text,
    stars_price      integer,
    recurring        boolean NOT NULL DEFAULT false,
    active           boolean NOT NULL DEFAULT true,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT plans_code_format CHECK (code ~ '^[a-z0-9][a-z0-9_]{0,63}$'),
    CONSTRAINT plans_name_length CHECK (length(name) BETWEEN 1 AND 200),
    CONSTRAINT plans_period_days_positive CHECK (period_days > 0),
    CONSTRAINT plans_stars_price_positive CHECK (stars_price IS NULL OR stars_price > 0),
    CONSTRAINT plans_stripe_price_id_key UNIQUE (stripe_price_id)
);
