import Foundation
import Marketing

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
    var plansFile: String?
    var publicBaseURL: String
    var marketingChannelID: String?
    var marketingPostInterval: Duration
    /// CTA types counted under their own `cta_type` label value (`MARKETING_CTA_TYPES`); others count as `other`.
    var marketingCTATypes: [String]
    var logLevel: String
    var logFormat: LogFormat
    var shutdownGrace: Duration

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
        ("TELEGRAM_WEBHOOK_SECRET", "expected X-Telegram-Bot-Api-Secret-Token", "required by serve"),
        ("TELEGRAM_API_BASE_URL", "Bot API base", "https://api.telegram.org"),
        ("STRIPE_API_KEY", "Stripe secret key", "required for Stripe features"),
        ("STRIPE_WEBHOOK_SECRET", "one or more whsec_ secrets, comma separated (rotation)", "required for Stripe webhooks"),
        ("STRIPE_API_BASE_URL", "Stripe API base", "https://api.stripe.com"),
        ("STRIPE_WEBHOOK_TOLERANCE_SECONDS", "max age of a signed webhook", "300"),
        ("JWT_SECRET", "HS256 key for Mini App tokens (>= 32 bytes)", "required by serve"),
        ("JWT_PREVIOUS_SECRET", "old JWT key still accepted during a rotation window", "none"),
        ("JWT_TTL_SECONDS", "Mini App token lifetime", "900"),
        ("INITDATA_MAX_AGE_SECONDS", "max age of Mini App initData auth_date", "86400"),
        ("INITDATA_CHECK", "initData validation: hmac (bot token), ed25519 (Telegram's public key) or both", "hmac"),
        ("INITDATA_ED25519_BOT_ID", "bot id for the Ed25519 check", "the number before ':' in TELEGRAM_BOT_TOKEN"),
        ("INITDATA_ED25519_KEY", "production or test: Telegram's key for the Ed25519 check", "production"),
        ("ADMIN_TOKEN", "bearer token for /admin/v1", "admin API off when unset"),
        ("PLANS_FILE", "plan catalog JSON, synced at start", "none"),
        ("PUBLIC_BASE_URL", "used for Stripe success/cancel/return URLs", "http://HOST:PORT"),
        ("MARKETING_CHANNEL_ID", "chat id or @channel for promo posts", "scheduler off when unset"),
        ("MARKETING_POST_INTERVAL_HOURS", "promo interval", "4"),
        (
            "MARKETING_CTA_TYPES", "comma-separated CTA types that get their own cta_type label value; others count as other",
            MarketingMetrics.defaultCTATypes.joined(separator: ", ")
        ),
        ("LOG_LEVEL", "trace, debug, info, notice, warning, error, critical", "info"),
        ("LOG_FORMAT", "json or text", "json"),
        ("SHUTDOWN_GRACE_SECONDS", "how long in-flight requests may finish after SIGTERM", "20"),
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
        let jwtSecret = try reader.required("JWT_SECRET", why: "is required: the HS256 key for Mini App tokens")
        guard jwtSecret.utf8.count >= 32 else { throw Invalid(variable: "JWT_SECRET", problem: "must be at least 32 bytes") }
        let previous = reader.string("JWT_PREVIOUS_SECRET")
        if let previous, previous.utf8.count < 32 {
            throw Invalid(variable: "JWT_PREVIOUS_SECRET", problem: "must be at least 32 bytes")
        }
        let webhookSecrets = (reader.string("STRIPE_WEBHOOK_SECRET") ?? "")
            .split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        for secret in webhookSecrets where !secret.hasPrefix("whsec_") {
            throw Invalid(variable: "STRIPE_WEBHOOK_SECRET", problem: "must hold whsec_ secrets separated by commas")
        }
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
            telegramWebhookSecret: try reader.required(
                "TELEGRAM_WEBHOOK_SECRET", why: "is required: the secret_token set with setWebhook"),
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
            adminToken: reader.string("ADMIN_TOKEN"),
            plansFile: reader.string("PLANS_FILE"),
            publicBaseURL: try reader.url("PUBLIC_BASE_URL", default: "http://\(host):\(port)"),
            marketingChannelID: reader.string("MARKETING_CHANNEL_ID"),
            marketingPostInterval: .milliseconds(Int64(intervalHours * 3_600_000)),
            marketingCTATypes: ctaTypes,
            logLevel: logLevel,
            logFormat: logFormat,
            shutdownGrace: .seconds(try reader.int("SHUTDOWN_GRACE_SECONDS", default: 20, range: 0...3600))
        )
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
            "plans_file": plansFile ?? "none", "public_base_url": publicBaseURL,
            "marketing_channel_id": marketingChannelID ?? "unset", "marketing_post_interval": "\(marketingPostInterval)",
            "marketing_cta_types": marketingCTATypes.joined(separator: ","),
            "log_level": logLevel, "log_format": logFormat.rawValue,
        ]
    }

    /// Masks the password in a libpq URI (`postgres://u:pw@h/db`) or key/value string (`password=pw`).
    static func redactConninfo(_ conninfo: String) -> String {
        if let schemeEnd = conninfo.range(of: "://"), let at = conninfo.range(of: "@", range: schemeEnd.upperBound..<conninfo.endIndex) {
            let credentials = conninfo[schemeEnd.upperBound..<at.lowerBound]
            if let colon = credentials.firstIndex(of: ":") {
                return String(conninfo[..<schemeEnd.upperBound]) + credentials[..<colon] + ":***" + conninfo[at.lowerBound...]
            }
            return conninfo
        }
        return conninfo.split(separator: " ").map { part in
            part.lowercased().hasPrefix("password=") ? "password=***" : String(part)
        }.joined(separator: " ")
    }
}
