import Marketing

/// The `--help` table of environment variables.
extension AppConfig {
    /// The table `--help` prints: every variable with its default.
    static let variables: [(name: String, meaning: String, defaultValue: String)] = [
        ("DATABASE_URL", "libpq connection string or URI", "required by serve/migrate"),
        ("HOST", "listen address", "127.0.0.1"),
        ("PORT", "listen port", "8080"),
        ("DB_POOL_SIZE", "connections in the pool", "10"),
        ("DB_PREPARED_STATEMENTS", "per-connection prepared statements (false for PgBouncer transaction mode)", "true"),
        ("MIGRATIONS_DIR", "where sql/ is (also --dir on migrate)", "./sql"),
        ("TELEGRAM_BOT_TOKEN", "bot token", "required by serve"),
        ("TELEGRAM_WEBHOOK_SECRET", "expected X-Telegram-Bot-Api-Secret-Token (>= 32 bytes)", "required by serve"),
        ("TELEGRAM_API_BASE_URL", "Bot API base", "https://api.telegram.org"),
        ("STRIPE_API_KEY", "Stripe secret key", "required for Stripe features"),
        ("STRIPE_WEBHOOK_SECRET", "one or more whsec_ secrets, comma separated (rotation)", "required for Stripe webhooks"),
        ("STRIPE_API_BASE_URL", "Stripe API base", "https://api.stripe.com"),
        ("STRIPE_WEBHOOK_TOLERANCE_SECONDS", "max age of a signed webhook", "300"),
        ("STRIPE_LIVEMODE", "true or false: Stripe events of the other mode are rejected", "both accepted"),
        ("JWT_SECRET", "HS256 key for Mini App tokens (>= 32 bytes)", "required by serve"),
        ("JWT_PREVIOUS_SECRET", "old JWT key still accepted during a rotation window", "none"),
        ("JWT_TTL_SECONDS", "Mini App token lifetime", "900"),
        ("INITDATA_MAX_AGE_SECONDS", "max age of Mini App initData auth_date", "86400"),
        ("INITDATA_CHECK", "initData validation: hmac (bot token), ed25519 (Telegram's public key) or both", "hmac"),
        ("INITDATA_ED25519_BOT_ID", "bot id for the Ed25519 check", "the number before ':' in TELEGRAM_BOT_TOKEN"),
        ("INITDATA_ED25519_KEY", "production or test: Telegram's key for the Ed25519 check", "production"),
        ("ADMIN_TOKEN", "bearer token for /admin/v1 (>= 32 bytes)", "admin API off when unset"),
        ("METRICS_TOKEN", "bearer token /metrics requires", "/metrics open when unset"),
        ("TRUSTED_PROXIES", "comma-separated IPs/CIDRs of proxies whose X-Forwarded-For is believed", "none"),
        ("PLANS_FILE", "plan catalog JSON, synced at start", "none"),
        ("PUBLIC_BASE_URL", "used for Stripe success/cancel/return URLs", "http://HOST:PORT"),
        ("MARKETING_CHANNEL_ID", "chat id or @channel for promo posts", "scheduler off when unset"),
        ("MARKETING_POST_INTERVAL_HOURS", "promo interval", "4"),
        (
            "MARKETING_CTA_TYPES", "comma-separated CTA types that get their own cta_type label value; others count as other",
            MarketingMetrics.defaultCTATypes.joined(separator: ", ")
        ),
        ("PAST_DUE_GRACE_DAYS", "access kept after a failed Stripe renewal while Stripe retries", "3"),
        ("RECONCILE_INTERVAL_SECONDS", "how often serve applies payments whose webhooks never arrived (0: never)", "3600"),
        ("RECONCILE_LOOKBACK_HOURS", "how far back each reconciliation run looks", "72"),
        ("HOUSEKEEPING_INTERVAL_SECONDS", "how often serve purges old updates, sessions, idempotency keys and payloads (0: never)", "3600"),
        ("TELEGRAM_UPDATES_RETENTION_DAYS", "days processed Telegram update ids are kept (at least 1: Telegram redelivers for 24 h)", "30"),
        ("PAYLOAD_RETENTION_DAYS", "days bodies of processed payment events are kept (the rows stay)", "90"),
        (
            "STARS_SUBSCRIPTION_PERIOD_SECONDS",
            "seconds between Stars subscription charges: 2592000, or 60 or 300 on Telegram's test environment", "2592000"
        ),
        ("SUPPORT_TEXT", "the bot's answer to /paysupport", "a generic text"),
        ("TERMS_URL", "the bot's answer to /terms", "the bot says terms are not configured"),
        ("LOG_LEVEL", "trace, debug, info, notice, warning, error, critical", "info"),
        ("LOG_FORMAT", "json or text", "json"),
        ("SHUTDOWN_GRACE_SECONDS", "how long in-flight requests may finish after SIGTERM", "20"),
        ("TELEBOT_ENV", "production refuses the development placeholders of docker-compose.yml", "development"),
    ]

    /// `--help` text: every variable with its meaning and default, wrapped to 78 columns by hand (ArgumentParser
    /// re-wraps only lines longer than the screen, and would lose the column layout).
    static var environmentHelp: String {
        let width = (variables.map(\.name.count).max() ?? 0) + 2
        let lines = variables.flatMap { variable in
            wrap("\(variable.meaning) (default: \(variable.defaultValue))", width: max(20, 76 - width))
                .enumerated().map { index, text in
                    (index == 0
                        ? variable.name.padding(toLength: width, withPad: " ", startingAt: 0)
                        : String(repeating: " ", count: width)) + text
                }
        }
        return "ENVIRONMENT:\n  " + lines.joined(separator: "\n  ")
    }

    static func wrap(_ text: String, width: Int) -> [String] {
        var lines: [String] = []
        var current = ""
        for word in text.split(separator: " ") {
            if !current.isEmpty, current.count + 1 + word.count > width {
                lines.append(current)
                current = ""
            }
            current += current.isEmpty ? String(word) : " " + word
        }
        if !current.isEmpty { lines.append(current) }
        return lines
    }
}
