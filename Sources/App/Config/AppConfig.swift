import Foundation
import Marketing
import PGClient

/// Everything `telebot serve` reads from the environment, read once at start and validated with messages that name
/// the variable. `redactedDescription` is what may be logged: secrets show only whether they are set.
struct AppConfig: Sendable {
    var databaseURL: String
    var host: String
    var port: Int
    var dbPoolSize: Int
    var dbPreparedStatements: Bool
    var migrationsDir: String
    var telegramBotToken: String
    var telegramWebhookSecret: String
    var telegramAPIBaseURL: String
    var stripeAPIKey: String?
    var stripeWebhookSecrets: [String]
    var stripeAPIBaseURL: String
    var stripeWebhookTolerance: Int
    var jwtSecret: String
    /// Previous JWT key accepted for verification during a rotation window (never used to sign).
    var jwtPreviousSecret: String?
    var jwtTTL: Int
    var initDataMaxAge: Int
    /// Which initData checks run: `hmac` (bot token), `ed25519` (Telegram's published key; no token needed), `both`.
    var initDataCheck: InitDataCheck
    /// Bot id for the Ed25519 check (the number before ':' in the token when unset).
    var initDataBotID: Int64?
    /// `production` or `test`: which Telegram public key signs third-party initData.
    var initDataKeyEnvironment: String

    enum InitDataCheck: String, Sendable {
        case hmac, ed25519, both
    }
    var adminToken: String?
    /// Bearer token `/metrics` requires (`METRICS_TOKEN`); nil: `/metrics` is open.
    var metricsToken: String?
    /// Proxies whose `X-Forwarded-For` is believed (`TRUSTED_PROXIES`).
    var trustedProxies: TrustedProxies
    /// `STRIPE_LIVEMODE`: events whose `livemode` differs are rejected; nil accepts both.
    var stripeLivemode: Bool?
    /// `TELEBOT_ENV`: `production` refuses the development placeholders of docker-compose.yml.
    var environmentName: String
    var plansFile: String?
    var publicBaseURL: String
    var marketingChannelID: String?
    var marketingPostInterval: Duration
    /// CTA types counted under their own `cta_type` label value (`MARKETING_CTA_TYPES`); others count as `other`.
    var marketingCTATypes: [String]
    /// Days of access kept after a failed Stripe renewal while Stripe retries (`PAST_DUE_GRACE_DAYS`).
    var pastDueGraceDays: Int
    /// `RECONCILE_INTERVAL_SECONDS`: how often `serve` reconciles payments with the providers (0: never).
    var reconcileIntervalSeconds: Int = 3600
    /// `RECONCILE_LOOKBACK_HOURS`: how far back each reconciliation run looks.
    var reconcileLookbackHours: Int = 72
    /// `HOUSEKEEPING_INTERVAL_SECONDS`: how often `serve` purges old rows (0: never).
    var housekeepingIntervalSeconds: Int = 3600
    /// `TELEGRAM_UPDATES_RETENTION_DAYS`: processed `update_id`s kept this long (>= 1: Telegram redelivers for 24 h).
    var telegramUpdatesRetentionDays: Int = 30
    /// `PAYLOAD_RETENTION_DAYS`: bodies of processed payment events kept this long (the rows stay).
    var payloadRetentionDays: Int = 90
    var logLevel: String
    var logFormat: LogFormat
    var shutdownGrace: Duration
    /// Idle and read timeouts of HTTP connections (fixed; tests shorten them).
    var httpTimeouts = HTTPTimeouts()
    /// `STARS_SUBSCRIPTION_PERIOD_SECONDS`: `subscription_period` of Stars subscription links.
    var starsSubscriptionPeriod: Int = 2_592_000
    /// `SUPPORT_TEXT`: the bot's answer to `/paysupport`.
    var supportText: String = AppConfig.defaultSupportText
    /// `TERMS_URL`: the bot's answer to `/terms`; nil: terms are not configured.
    var termsURL: String?

    static let defaultSupportText =
        "For help with a payment, write to this bot describing the problem and the date of the payment; we answer within two business days."

    enum LogFormat: String, Sendable {
        case json
        case text
    }

    /// A configuration error naming the variable and what is wrong with it.
    struct Invalid: Error, CustomStringConvertible {
        let variable: String
        let problem: String
        var description: String { "\(variable) \(problem)" }
    }

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
        ("STARS_SUBSCRIPTION_PERIOD_SECONDS", "seconds between Stars subscription charges: 2592000, or 60 or 300 on Telegram's test environment", "2592000"),
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
                    (index == 0 ? variable.name.padding(toLength: width, withPad: " ", startingAt: 0)
                        : String(repeating: " ", count: width)) + text
                }
        }
        return "ENVIRONMENT:\n  " + lines.joined(separator: "\n  ")
    }

    private static func wrap(_ text: String, width: Int) -> [String] {
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

    /// Reads and validates the configuration `serve` needs.
    static func load(from environment: [String: String]) throws(Invalid) -> AppConfig {
        let reader = EnvironmentReader(environment)
        let host = reader.string("HOST") ?? "127.0.0.1"
        let port = try reader.int("PORT", default: 8080, range: 0...65535)
        let environmentName = reader.string("TELEBOT_ENV") ?? "development"
        guard ["production", "development"].contains(environmentName) else {
            throw Invalid(variable: "TELEBOT_ENV", problem: "must be production or development")
        }
        let jwtSecret = try reader.required("JWT_SECRET", why: "is required: the HS256 key for Mini App tokens")
        try requireLength("JWT_SECRET", jwtSecret)
        let previous = reader.string("JWT_PREVIOUS_SECRET")
        if let previous { try requireLength("JWT_PREVIOUS_SECRET", previous) }
        let telegramWebhookSecret = try reader.required(
            "TELEGRAM_WEBHOOK_SECRET", why: "is required: the secret_token set with setWebhook")
        try requireLength("TELEGRAM_WEBHOOK_SECRET", telegramWebhookSecret)
        let adminToken = reader.string("ADMIN_TOKEN")
        if let adminToken { try requireLength("ADMIN_TOKEN", adminToken) }
        let webhookSecrets = (reader.string("STRIPE_WEBHOOK_SECRET") ?? "")
            .split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        for secret in webhookSecrets where !secret.hasPrefix("whsec_") || secret.count == "whsec_".count {
            throw Invalid(
                variable: "STRIPE_WEBHOOK_SECRET", problem: "must hold whsec_ secrets (with text after whsec_) separated by commas")
        }
        var trustedProxies = TrustedProxies.none
        if let text = reader.string("TRUSTED_PROXIES") {
            switch TrustedProxies.parse(text) {
            case .success(let parsed): trustedProxies = parsed
            case .failure(let failure):
                throw Invalid(
                    variable: "TRUSTED_PROXIES",
                    problem: "must be comma-separated IPv4/IPv6 addresses or CIDR networks (\"\(failure.entry)\" is not one)")
            }
        }
        var stripeLivemode: Bool?
        if reader.string("STRIPE_LIVEMODE") != nil { stripeLivemode = try reader.bool("STRIPE_LIVEMODE", default: false) }
        if environmentName == "production" { try refusePlaceholders(reader) }
        let logFormatText = reader.string("LOG_FORMAT") ?? "json"
        guard let logFormat = LogFormat(rawValue: logFormatText) else {
            throw Invalid(variable: "LOG_FORMAT", problem: "must be json or text")
        }
        let logLevel = reader.string("LOG_LEVEL") ?? "info"
        guard ["trace", "debug", "info", "notice", "warning", "error", "critical"].contains(logLevel) else {
            throw Invalid(variable: "LOG_LEVEL", problem: "must be one of trace, debug, info, notice, warning, error, critical")
        }
        guard let initDataCheck = InitDataCheck(rawValue: reader.string("INITDATA_CHECK") ?? "hmac") else {
            throw Invalid(variable: "INITDATA_CHECK", problem: "must be hmac, ed25519 or both")
        }
        let keyEnvironment = reader.string("INITDATA_ED25519_KEY") ?? "production"
        guard ["production", "test"].contains(keyEnvironment) else {
            throw Invalid(variable: "INITDATA_ED25519_KEY", problem: "must be production or test")
        }
        var initDataBotID: Int64?
        if let text = reader.string("INITDATA_ED25519_BOT_ID") {
            guard let id = Int64(text), id > 0 else {
                throw Invalid(variable: "INITDATA_ED25519_BOT_ID", problem: "must be a positive whole number")
            }
            initDataBotID = id
        }
        let intervalHours = try reader.double("MARKETING_POST_INTERVAL_HOURS", default: 4, minimum: 0.0001)
        let ctaTypes = try parseCTATypes(reader.string("MARKETING_CTA_TYPES"))
        return AppConfig(
            databaseURL: try reader.required("DATABASE_URL", why: "is required: a libpq connection string or URI"),
            host: host,
            port: port,
            dbPoolSize: try reader.int("DB_POOL_SIZE", default: 10, range: 1...1000),
            dbPreparedStatements: try reader.bool("DB_PREPARED_STATEMENTS", default: true),
            migrationsDir: reader.string("MIGRATIONS_DIR") ?? "./sql",
            telegramBotToken: try reader.required("TELEGRAM_BOT_TOKEN", why: "is required: the bot token from @BotFather"),
            telegramWebhookSecret: telegramWebhookSecret,
            telegramAPIBaseURL: try reader.url("TELEGRAM_API_BASE_URL", default: "https://api.telegram.org"),
            stripeAPIKey: reader.string("STRIPE_API_KEY"),
            stripeWebhookSecrets: webhookSecrets,
            stripeAPIBaseURL: try reader.url("STRIPE_API_BASE_URL", default: "https://api.stripe.com"),
            stripeWebhookTolerance: try reader.int("STRIPE_WEBHOOK_TOLERANCE_SECONDS", default: 300, range: 1...86400),
            jwtSecret: jwtSecret,
            jwtPreviousSecret: previous,
            jwtTTL: try reader.int("JWT_TTL_SECONDS", default: 900, range: 30...2_592_000),
            initDataMaxAge: try reader.int("INITDATA_MAX_AGE_SECONDS", default: 86400, range: 1...31_536_000),
            initDataCheck: initDataCheck,
            initDataBotID: initDataBotID,
            initDataKeyEnvironment: keyEnvironment,
            adminToken: adminToken,
            metricsToken: reader.string("METRICS_TOKEN"),
            trustedProxies: trustedProxies,
            stripeLivemode: stripeLivemode,
            environmentName: environmentName,
            plansFile: reader.string("PLANS_FILE"),
            publicBaseURL: try reader.url("PUBLIC_BASE_URL", default: "http://\(host):\(port)"),
            marketingChannelID: reader.string("MARKETING_CHANNEL_ID"),
            marketingPostInterval: .milliseconds(Int64(intervalHours * 3_600_000)),
            marketingCTATypes: ctaTypes,
            pastDueGraceDays: try reader.int("PAST_DUE_GRACE_DAYS", default: 3, range: 0...60),
            reconcileIntervalSeconds: try reader.int("RECONCILE_INTERVAL_SECONDS", default: 3600, range: 0...2_592_000),
            reconcileLookbackHours: try reader.int("RECONCILE_LOOKBACK_HOURS", default: 72, range: 1...2160),
            housekeepingIntervalSeconds: try reader.int("HOUSEKEEPING_INTERVAL_SECONDS", default: 3600, range: 0...2_592_000),
            telegramUpdatesRetentionDays: try reader.int("TELEGRAM_UPDATES_RETENTION_DAYS", default: 30, range: 1...3650),
            payloadRetentionDays: try reader.int("PAYLOAD_RETENTION_DAYS", default: 90, range: 1...3650),
            logLevel: logLevel,
            logFormat: logFormat,
            shutdownGrace: .seconds(try reader.int("SHUTDOWN_GRACE_SECONDS", default: 20, range: 0...3600)),
            starsSubscriptionPeriod: try starsSubscriptionPeriod(reader),
            supportText: reader.string("SUPPORT_TEXT") ?? AppConfig.defaultSupportText,
            termsURL: try termsURL(reader)
        )
    }

    /// `STARS_SUBSCRIPTION_PERIOD_SECONDS`: Telegram accepts 30 days, and 60 or 300 seconds on its test environment.
    private static func starsSubscriptionPeriod(_ reader: EnvironmentReader) throws(Invalid) -> Int {
        let period = try reader.int("STARS_SUBSCRIPTION_PERIOD_SECONDS", default: 2_592_000, range: 1...31_536_000)
        guard [2_592_000, 60, 300].contains(period) else {
            throw Invalid(
                variable: "STARS_SUBSCRIPTION_PERIOD_SECONDS",
                problem: "must be 2592000 (30 days), or 60 or 300 on Telegram's test environment")
        }
        return period
    }

    /// `TERMS_URL`: an http(s) URL, or nil when unset.
    private static func termsURL(_ reader: EnvironmentReader) throws(Invalid) -> String? {
        guard reader.string("TERMS_URL") != nil else { return nil }
        return try reader.url("TERMS_URL", default: "")
    }

    /// Secrets an attacker could guess or brute-force offline must have at least 32 bytes.
    private static func requireLength(_ variable: String, _ value: String) throws(Invalid) {
        guard value.utf8.count >= 32 else {
            throw Invalid(variable: variable, problem: "must be at least 32 bytes (got \(value.utf8.count))")
        }
    }

    /// Secret variables whose docker-compose.yml development values (all containing `placeholder`) must not
    /// reach production.
    static let placeholderCheckedVariables = [
        "TELEGRAM_BOT_TOKEN", "TELEGRAM_WEBHOOK_SECRET", "STRIPE_API_KEY", "STRIPE_WEBHOOK_SECRET", "JWT_SECRET",
        "JWT_PREVIOUS_SECRET", "ADMIN_TOKEN", "METRICS_TOKEN",
    ]

    /// `TELEBOT_ENV=production`: refuses docker-compose.yml's development placeholders (any secret containing
    /// `placeholder`, and the database password `postgres`).
    private static func refusePlaceholders(_ reader: EnvironmentReader) throws(Invalid) {
        for variable in placeholderCheckedVariables {
            if let value = reader.string(variable), value.lowercased().contains("placeholder") {
                throw Invalid(
                    variable: variable,
                    problem: "holds a development placeholder from docker-compose.yml; TELEBOT_ENV=production needs a real secret")
            }
        }
        if let url = reader.string("DATABASE_URL"), PGConninfo.parse(url)?["password"] == "postgres" {
            throw Invalid(
                variable: "DATABASE_URL",
                problem: "has the development placeholder password of docker-compose.yml; TELEBOT_ENV=production needs a real one")
        }
    }

    /// `MARKETING_CTA_TYPES`: label values must stay few and tidy, because each is a Prometheus series.
    private static func parseCTATypes(_ text: String?) throws(Invalid) -> [String] {
        guard let text else { return MarketingMetrics.defaultCTATypes }
        let types = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        let allowed = Set("abcdefghijklmnopqrstuvwxyz0123456789_")
        for type in types where type.count > 32 || !type.allSatisfy(allowed.contains) || type == MarketingMetrics.otherCTAType {
            throw Invalid(
                variable: "MARKETING_CTA_TYPES",
                problem: "must be comma-separated names of a-z, 0-9 and _ (at most 32 characters, not \"other\"); got \"\(type)\"")
        }
        guard types.count <= 50 else { throw Invalid(variable: "MARKETING_CTA_TYPES", problem: "may name at most 50 types") }
        return types
    }

    /// The configuration as it may be logged: secrets replaced by `set`/`unset`.
    var redactedDescription: [String: String] {
        func secret(_ value: String?) -> String { value.map { $0.isEmpty ? "unset" : "set" } ?? "unset" }
        return [
            "database_url": AppConfig.redactConninfo(databaseURL),
            "host": host, "port": "\(port)", "db_pool_size": "\(dbPoolSize)",
            "db_prepared_statements": "\(dbPreparedStatements)", "migrations_dir": migrationsDir,
            "telegram_bot_token": secret(telegramBotToken), "telegram_webhook_secret": secret(telegramWebhookSecret),
            "telegram_api_base_url": telegramAPIBaseURL, "stripe_api_key": secret(stripeAPIKey),
            "stripe_webhook_secrets": "\(stripeWebhookSecrets.count) set", "stripe_api_base_url": stripeAPIBaseURL,
            "stripe_webhook_tolerance_seconds": "\(stripeWebhookTolerance)", "jwt_secret": secret(jwtSecret),
            "jwt_previous_secret": secret(jwtPreviousSecret), "jwt_ttl_seconds": "\(jwtTTL)",
            "initdata_max_age_seconds": "\(initDataMaxAge)", "initdata_check": initDataCheck.rawValue, "admin_token": secret(adminToken),
            "metrics_token": secret(metricsToken), "trusted_proxies": trustedProxies.networks.map(\.description).joined(separator: ","),
            "stripe_livemode": stripeLivemode.map { "\($0)" } ?? "any", "telebot_env": environmentName,
            "plans_file": plansFile ?? "none", "public_base_url": publicBaseURL,
            "marketing_channel_id": marketingChannelID ?? "unset", "marketing_post_interval": "\(marketingPostInterval)",
            "marketing_cta_types": marketingCTATypes.joined(separator: ","),
            "past_due_grace_days": "\(pastDueGraceDays)",
            "reconcile_interval_seconds": "\(reconcileIntervalSeconds)", "reconcile_lookback_hours": "\(reconcileLookbackHours)",
            "housekeeping_interval_seconds": "\(housekeepingIntervalSeconds)",
            "telegram_updates_retention_days": "\(telegramUpdatesRetentionDays)", "payload_retention_days": "\(payloadRetentionDays)",
            "stars_subscription_period_seconds": "\(starsSubscriptionPeriod)", "terms_url": termsURL ?? "unset",
            "log_level": logLevel, "log_format": logFormat.rawValue,
        ]
    }

    /// The connection string as libpq reads it, every keyword but the password (and `sslpassword`) shown; see
    /// `PGConninfo.redacted`.
    static func redactConninfo(_ conninfo: String) -> String {
        PGConninfo.redacted(conninfo)
    }
}
