import Foundation
import Telegram

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

    static let defaultSupportText = TelegramUpdateDispatcher.defaultSupportText

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
}
