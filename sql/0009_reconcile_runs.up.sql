-- One row per reconciliation run and provider (`telebot reconcile`, and the periodic run inside `serve`): what was
-- looked at, what had been missed and was applied now, what could not be applied. `--dry-run` writes no row.
CREATE TABLE reconcile_runs (
    id            bigserial PRIMARY KEY,
    provider      text NOT NULL CHECK (provider IN ('stripe', 'telegram_stars')),
    window_start  timestamptz NOT NULL,
    window_end    timestamptz NOT NULL,
    seen          integer NOT NULL DEFAULT 0 CHECK (seen >= 0),
    recovered     integer NOT NULL DEFAULT 0 CHECK (recovered >= 0),
    failed        integer NOT NULL DEFAULT 0 CHECK (failed >= 0),
    dry_run       boolean NOT NULL DEFAULT false,
    started_at    timestamptz NOT NULL DEFAULT now(),
    finished_at   timestamptz
);

CREATE INDEX reconcile_runs_provider_started ON reconcile_runs (provider, started_at DESC);
