import Foundation
import Testing

@testable import App

@Suite struct ConfigTests {
    private func problem(_ environment: [String: String]) -> AppConfig.Invalid? {
        do {
            _ = try AppConfig.load(from: environment)
            return nil
        } catch {
            return error
        }
    }

    @Test func everyMissingRequiredVariableIsNamed() {
        for variable in ["DATABASE_URL", "TELEGRAM_BOT_TOKEN", "TELEGRAM_WEBHOOK_SECRET", "JWT_SECRET"] {
            var environment = AppTestSupport.environment()
            environment[variable] = nil
            let invalid = problem(environment)
            #expect(invalid?.variable == variable)
            #expect(invalid?.description.hasPrefix(variable) == true)
            // Blank counts as missing.
            environment[variable] = "   "
            #expect(problem(environment)?.variable == variable)
        }
    }

    @Test func badValuesNameTheVariableAndSayWhatIsWrong() {
        let cases: [(String, String, String)] = [
            ("PORT", "80a", "whole number"),
            ("PORT", "70000", "0 to 65535"),
            ("DB_POOL_SIZE", "0", "1 to 1000"),
            ("JWT_SECRET", "short", "at least 32 bytes"),
            ("STRIPE_WEBHOOK_SECRET", "whsec_a,nope", "whsec_"),
            ("LOG_FORMAT", "xml", "json or text"),
            ("LOG_LEVEL", "loud", "one of"),
            ("TELEGRAM_API_BASE_URL", "ftp://x", "http(s) URL"),
            ("SHUTDOWN_GRACE_SECONDS", "-1", "whole number"),
            ("DB_PREPARED_STATEMENTS", "maybe", "true or false"),
            ("MARKETING_CTA_TYPES", "buy,Big Sale", "a-z, 0-9 and _"),
            ("MARKETING_CTA_TYPES", "buy,other", "not \"other\""),
        ]
        for (variable, value, expected) in cases {
            let invalid = problem(AppTestSupport.environment([variable: value]))
            #expect(invalid?.variable == variable, "\(variable)=\(value)")
            #expect(invalid?.description.contains(expected) == true, "\(invalid?.description ?? "accepted") for \(variable)")
        }
    }

    @Test func secretsNeverAppearInTheRedactedConfigOrInErrors() throws {
        let environment = AppTestSupport.environment([
            "DATABASE_URL": "postgres://app:s3cretpw@db.example:5432/telebot",
            "STRIPE_API_KEY": "sk_live_verysecret", "ADMIN_TOKEN": "admintokenvalue-0123456789abcdefghijk",
            "STRIPE_WEBHOOK_SECRET": "whsec_abcdef",
        ])
        let config = try AppConfig.load(from: environment)
        let logged = config.redactedDescription.values.joined(separator: " ")
        for secret in [
            "s3cretpw", "sk_live_verysecret", "admintokenvalue", "whsec_abcdef", "test-token-not-real",
            "test-webhook-secret", String(repeating: "k", count: 48),
        ] {
            #expect(!logged.contains(secret), "\(secret) leaked")
        }
        #expect(config.redactedDescription["database_url"] == "dbname=telebot host=db.example password=*** port=5432 user=app")
        #expect(AppConfig.redactConninfo("host=/tmp user=x password=pw dbname=d") == "dbname=d host=/tmp password=*** user=x")
        let short = problem(AppTestSupport.environment(["JWT_SECRET": "tiny-secret-value"]))
        #expect(short?.description.contains("tiny-secret-value") == false)
    }

    @Test func defaultsFollowTheContract() throws {
        var environment = AppTestSupport.environment()
        for optional in ["HOST", "PORT", "MIGRATIONS_DIR", "LOG_FORMAT"] { environment[optional] = nil }
        let config = try AppConfig.load(from: environment)
        #expect(config.host == "127.0.0.1")
        #expect(config.port == 8080)
        #expect(config.dbPoolSize == 10)
        #expect(config.migrationsDir == "./sql")
        #expect(config.telegramAPIBaseURL == "https://api.telegram.org")
        #expect(config.marketingCTATypes == ["buy", "upgrade", "subscribe", "learn_more", "promo", "start", "open_app"])
        let custom = try AppConfig.load(from: AppTestSupport.environment(["MARKETING_CTA_TYPES": " winter_sale , buy "]))
        #expect(custom.marketingCTATypes == ["winter_sale", "buy"])
        #expect(config.stripeAPIBaseURL == "https://api.stripe.com")
        #expect(config.stripeWebhookTolerance == 300)
        #expect(config.jwtTTL == 900)
        #expect(config.initDataMaxAge == 86400)
        #expect(config.publicBaseURL == "http://127.0.0.1:8080")
        #expect(config.marketingPostInterval == .seconds(4 * 3600))
        #expect(config.logLevel == "info")
        #expect(config.logFormat == .json)
        #expect(config.shutdownGrace == .seconds(20))
        #expect(config.adminToken == nil)
        #expect(config.plansFile == nil)
    }

    @Test func helpListsEveryVariableWithItsDefault() {
        let help = AppConfig.environmentHelp
        let contractVariables = [
            "DATABASE_URL", "HOST", "PORT", "DB_POOL_SIZE", "MIGRATIONS_DIR", "TELEGRAM_BOT_TOKEN",
            "TELEGRAM_WEBHOOK_SECRET", "TELEGRAM_API_BASE_URL", "STRIPE_API_KEY", "STRIPE_WEBHOOK_SECRET",
            "STRIPE_API_BASE_URL", "STRIPE_WEBHOOK_TOLERANCE_SECONDS", "JWT_SECRET", "JWT_TTL_SECONDS",
            "INITDATA_MAX_AGE_SECONDS", "ADMIN_TOKEN", "PLANS_FILE", "PUBLIC_BASE_URL", "MARKETING_CHANNEL_ID",
            "MARKETING_POST_INTERVAL_HOURS", "LOG_LEVEL", "LOG_FORMAT", "SHUTDOWN_GRACE_SECONDS",
        ]
        for variable in contractVariables {
            #expect(help.contains("\n  \(variable) "), "\(variable) missing from --help")
        }
        #expect(help.components(separatedBy: "(default:").count - 1 == AppConfig.variables.count)
        #expect(help.split(separator: "\n").allSatisfy { $0.count <= 78 })
    }
}
