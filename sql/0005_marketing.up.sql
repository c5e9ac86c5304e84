-- Marketing: CTA clicks, promo texts, the promo posts of the scheduler (one per campaign and slot) and the
-- scheduler's pause switch, which lives here so that every server instance obeys it.

-- One row per click on a call to action (Mini App API, Telegram callback buttons, /start deep links).
-- The limits below are mirrored in Swift (Marketing.NewClick) so the API answers 400 before reaching them.
CREATE TABLE marketing_clicks (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id       bigint NOT NULL REFERENCES users (id),
    cta_type      text NOT NULL,
    channel       text,
    utm_source    text,
    utm_campaign  text,
    metadata      jsonb NOT NULL DEFAULT '{}',
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT marketing_clicks_cta_type_format CHECK (cta_type ~ '^[a-z0-9_]{1,32}$'),
    CONSTRAINT marketing_clicks_channel_length CHECK (channel IS NULL OR length(channel) BETWEEN 1 AND 128),
    CONSTRAINT marketing_clicks_utm_source_length CHECK (utm_source IS NULL OR length(utm_source) BETWEEN 1 AND 128),
    CONSTRAINT marketing_clicks_utm_campaign_length
        CHECK (utm_campaign IS NULL OR length(utm_campaign) BETWEEN 1 AND 128),
    CONSTRAINT marketing_clicks_metadata_object CHECK (jsonb_typeof(metadata) = 'object'),
    -- 4 KB of the stored JSON text.
    CONSTRAINT marketing_clicks_metadata_size CHECK (octet_length(metadata::text) <= 4096)
);
-- A user's clicks, newest first, with keyset pagination on (created_at, id).
CREATE INDEX marketing_clicks_user_created_idx ON marketing_clicks (user_id, created_at DESC, id DESC);
-- Reports by time range.
CREATE INDEX marketing_clicks_created_idx ON marketing_clicks (created_at);

-- Promo texts, posted in `position` order (then id), one per slot, rotating. Marketers edit them with SQL
-- (deactivate a posted promo with active = false rather than deleting it: posts reference it);
-- `buttons` is an inline keyboard: an array of rows, each an array of {"text", "cta"} (a `cta:` callback) or
-- {"text", "url"} buttons.
CREATE TABLE marketing_promos (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    campaign    text NOT NULL DEFAULT 'default',
    position    integer NOT NULL DEFAULT 0,
    text        text NOT NULL,
    buttons     jsonb NOT NULL DEFAULT '[]',
    active      boolean NOT NULL DEFAULT true,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT marketing_promos_campaign_format CHECK (campaign ~ '^[A-Za-z0-9_]{1,32}$'),
    -- Telegram's limit for a message text.
    CONSTRAINT marketing_promos_text_length CHECK (length(text) BETWEEN 1 AND 4096),
    CONSTRAINT marketing_promos_buttons_array CHECK (jsonb_typeof(buttons) = 'array')
);
CREATE INDEX marketing_promos_rotation_idx ON marketing_promos (campaign, position, id) WHERE active;

INSERT INTO marketing_promos (campaign, position, text, buttons) VALUES
    ('default', 10,
     'Go Premium: unlimited answers, priority replies and early features. Cancel any time.',
     '[[{"text": "Upgrade now", "cta": "upgrade"}], [{"text": "Learn more", "cta": "learn_more"}]]'),
    ('default', 20,
     'Pay with Telegram Stars or a card: your Premium plan is one tap away.',
     '[[{"text": "Buy Premium", "cta": "buy"}, {"text": "What is included?", "cta": "learn_more"}]]');

-- One row per (campaign, slot): whoever inserts it first posts that slot, so several instances post it once.
--   sending  an attempt is in flight until lease_expires_at (the sender holds the slot)
--   claimed  waiting for a retry at next_attempt_at (the last attempt was refused without posting)
--   sent     posted; telegram_message_id is Telegram's message id
--   failed   given up: attempts used up, refused for good, or the outcome of an attempt is unknown
-- An attempt whose outcome is unknown (timeout, crash mid-send) is never repeated: posts are at most once.
CREATE TABLE marketing_posts (
    id                   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    campaign             text NOT NULL,
    slot_start           timestamptz NOT NULL,
    promo_id             bigint NOT NULL REFERENCES marketing_promos (id),
    status               text NOT NULL,
    attempts             integer NOT NULL DEFAULT 0,
    next_attempt_at      timestamptz,
    lease_expires_at     timestamptz,
    telegram_message_id  bigint,
    last_error           text,
    claimed_by           text,
    claimed_at           timestamptz NOT NULL DEFAULT now(),
    sent_at              timestamptz,
    updated_at           timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT marketing_posts_campaign_slot_key UNIQUE (campaign, slot_start),
    CONSTRAINT marketing_posts_status_check CHECK (status IN ('sending', 'claimed', 'sent', 'failed')),
    CONSTRAINT marketing_posts_attempts_check CHECK (attempts >= 0),
    CONSTRAINT marketing_posts_sent_check CHECK (status <> 'sent' OR sent_at IS NOT NULL),
    CONSTRAINT marketing_posts_sending_check CHECK (status <> 'sending' OR lease_expires_at IS NOT NULL),
    CONSTRAINT marketing_posts_claimed_check CHECK (status <> 'claimed' OR next_attempt_at IS NOT NULL),
    CONSTRAINT marketing_posts_last_error_length CHECK (last_error IS NULL OR length(last_error) <= 1000)
);
-- Retries and expired leases, found by the schedulers of every instance.
CREATE INDEX marketing_posts_pending_idx ON marketing_posts (next_attempt_at) WHERE status = 'claimed';
CREATE INDEX marketing_posts_sending_idx ON marketing_posts (lease_expires_at) WHERE status = 'sending';

-- Pause switch per campaign (no row: running). Every instance reads it before claiming or retrying a slot.
CREATE TABLE marketing_scheduler_state (
    campaign    text PRIMARY KEY,
    paused      boolean NOT NULL DEFAULT false,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    updated_by  text,
    CONSTRAINT marketing_scheduler_state_updated_by_length CHECK (updated_by IS NULL OR length(updated_by) <= 200)
);
