import Marketing
import PGClient

/// Checks of `load` that take more than a range: secrets' length, production placeholders, lists.
extension AppConfig {
    /// `STARS_SUBSCRIPTION_PERIOD_SECONDS`: Telegram accepts 30 days, and 60 or 300 seconds on its test environment.
    static func starsSubscriptionPeriod(_ reader: EnvironmentReader) throws(Invalid) -> Int {
        let period = try reader.int("STARS_SUBSCRIPTION_PERIOD_SECONDS", default: 2_592_000, range: 1...31_536_000)
        guard [2_592_000, 60, 300].contains(period) else {
            throw Invalid(
                variable: "STARS_SUBSCRIPTION_PERIOD_SECONDS",
                problem: "must be 2592000 (30 days), or 60 or 300 on Telegram's test environment")
        }
        return period
    }

    /// `TERMS_URL`: an http(s) URL, or nil when unset.
    static func termsURL(_ reader: EnvironmentReader) throws(Invalid) -> String? {
        guard reader.string("TERMS_URL") != nil else { return nil }
        return try reader.url("TERMS_URL", default: "")
    }

    /// Secrets an attacker could guess or brute-force offline must have at least 32 bytes.
    static func requireLength(_ variable: String, _ value: String) throws(Invalid) {
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
    static func refusePlaceholders(_ reader: EnvironmentReader) throws(Invalid) {
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
    static func parseCTATypes(_ text: String?) throws(Invalid) -> [String] {
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
}
