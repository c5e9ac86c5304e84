import Foundation
import HTTPTypes
import HummingbirdTesting
import PGClient
import TestSupport
import Testing

@testable import App

/// Settings refused at start (issue #22) and the connection string as it is logged.
@Suite struct ConfigHardeningTests {
    static func problem(_ overrides: [String: String?]) -> AppConfig.Invalid? {
        var environment = AppTestSupport.environment()
        for (name, value) in overrides { environment[name] = value }
        do {
            _ = try AppConfig.load(from: environment)
            return nil
        } catch {
            return error
        }
    }

    @Test func secretsShorterThan32BytesAreRefusedNamingTheVariable() {
        for variable in ["ADMIN_TOKEN", "JWT_SECRET", "TELEGRAM_WEBHOOK_SECRET", "JWT_PREVIOUS_SECRET"] {
            let short = String(repeating: "s", count: 31)
            let refused = Self.problem([variable: short])
            #expect(refused?.variable == variable)
            #expect(refused?.description.contains("at least 32 bytes") == true)
            #expect(refused?.description.contains(short) == false, "the value must not be echoed")
            #expect(Self.problem([variable: String(repeating: "s", count: 32)]) == nil, "\(variable): 32 bytes are enough")
        }
        // Bytes, not characters: 11 three-byte characters are 33 bytes.
        #expect(Self.problem(["ADMIN_TOKEN": String(repeating: "€", count: 11)]) == nil)
    }

    @Test func aWhsecPrefixWithNothingAfterItIsRefused() {
        for value in ["whsec_", "whsec_abc,whsec_", " whsec_ "] {
            let refused = Self.problem(["STRIPE_WEBHOOK_SECRET": value])
            #expect(refused?.variable == "STRIPE_WEBHOOK_SECRET", "\(value)")
        }
        #expect(Self.problem(["STRIPE_WEBHOOK_SECRET": "whsec_a, whsec_b"]) == nil)
    }

    /// docker-compose.yml's development values start a development server but never a production one.
    @Test func productionRefusesTheComposePlaceholders() throws {
        let compose = try String(contentsOfFile: TestEnvironment.repoRoot + "/docker-compose.yml", encoding: .utf8)
        func composeValue(_ name: String) throws -> String {
            let line = try #require(compose.split(separator: "\n").first { $0.trimmingCharacters(in: .whitespaces).hasPrefix(name + ":") })
            var value = line.split(separator: ":", maxSplits: 1)[1].split(separator: "#")[0].trimmingCharacters(in: .whitespaces)
            if value.hasPrefix("\""), value.hasSuffix("\"") { value = String(value.dropFirst().dropLast()) }
            return value
        }
        var composeEnvironment: [String: String] = [:]
        for name in [
            "DATABASE_URL", "TELEGRAM_BOT_TOKEN", "TELEGRAM_WEBHOOK_SECRET", "STRIPE_API_KEY",
            "STRIPE_WEBHOOK_SECRET", "JWT_SECRET", "ADMIN_TOKEN",
        ] {
            composeEnvironment[name] = try composeValue(name)
        }
        // As compose ships them, they are valid for development (TELEBOT_ENV unset or development).
        let development = AppTestSupport.environment(composeEnvironment)
        _ = try AppConfig.load(from: development)
        _ = try AppConfig.load(from: development.merging(["TELEBOT_ENV": "development"]) { _, new in new })
        // In production each one alone is refused, by name.
        let real = AppTestSupport.environment([
            "ADMIN_TOKEN": "a-real-admin-token-0123456789abcdefgh", "STRIPE_API_KEY": "sk_live_real",
            "STRIPE_WEBHOOK_SECRET": "whsec_realrealreal", "TELEBOT_ENV": "production",
        ])
        _ = try AppConfig.load(from: real)
        for (name, value) in composeEnvironment {
            var environment = real
            environment[name] = value
            do {
                _ = try AppConfig.load(from: environment)
                Issue.record("\(name)=\(value) accepted in production")
            } catch {
                #expect(error.variable == name)
                #expect(error.description.contains("placeholder"))
                #expect(!error.description.contains(value))
            }
        }
        #expect(Self.problem(["TELEBOT_ENV": "prod"])?.variable == "TELEBOT_ENV")
    }

    @Test func stripeLivemodeIsTrueFalseOrUnset() throws {
        #expect(try AppTestSupport.config().stripeLivemode == nil)
        #expect(try AppTestSupport.config(["STRIPE_LIVEMODE": "true"]).stripeLivemode == true)
        #expect(try AppTestSupport.config(["STRIPE_LIVEMODE": "false"]).stripeLivemode == false)
        #expect(Self.problem(["STRIPE_LIVEMODE": "live"])?.variable == "STRIPE_LIVEMODE")
    }

    /// The password never reaches a log line, in any form libpq accepts.
    @Test func theDatabasePasswordIsNeverPrinted() {
        let cases: [(String, String, String)] = [
            ("postgres://app:s3cret@db.example:5432/telebot", "s3cret", "dbname=telebot host=db.example password=*** port=5432 user=app"),
            // A percent-encoded '@' in a URI password.
            (
                "postgresql://app:p%40ss%40word@db.example/telebot?sslmode=require", "p@ss@word",
                "dbname=telebot host=db.example password=*** sslmode=require user=app"
            ),
            (
                "postgres://db.example/telebot?password=xyzzy-secret&application_name=tb", "xyzzy-secret",
                "application_name=tb dbname=telebot host=db.example password=***"
            ),
            ("postgres://h/db?password=x", "password=x", "dbname=db host=h password=***"),
            (
                "host=db.example user=app password='pa ss@w\\'rd' dbname=telebot", "pa ss@w'rd",
                "dbname=telebot host=db.example password=*** user=app"
            ),
            (
                "host=/tmp port=5432 password=p@ss dbname=d sslpassword=keypass", "keypass",
                "dbname=d host=/tmp password=*** port=5432 sslpassword=***"
            ),
            ("user=app dbname='my db'", "§", "dbname='my db' user=app"),
        ]
        for (conninfo, secret, expected) in cases {
            let shown = AppConfig.redactConninfo(conninfo)
            #expect(shown == expected, "\(conninfo)")
            #expect(!shown.contains(secret), "\(conninfo)")
            #expect(PGConninfo.parse(conninfo) != nil)
        }
        #expect(PGConninfo.parse("postgres://app:p%40ss@h/db")?["password"] == "p@ss")
        // Not a connection string libpq can read: nothing of it is shown.
        let broken = AppConfig.redactConninfo("host=h password='unterminated")
        #expect(!broken.contains("unterminated"))
        #expect(PGConninfo.parse("host=h password='unterminated") == nil)
    }
}

/// `STRIPE_LIVEMODE`: an event of the other mode changes nothing, is answered 200 and counted as rejected.
@Suite struct StripeLivemodeTests {
    @Test func eventsOfTheOtherModeAreRejectedWith200AndNotStored() async throws {
        try await StripeAppHarness.with(overrides: ["STRIPE_LIVEMODE": "true"]) { app in
            let testEvent = FakeStripe.event(
                id: FakeStripe.newID("evt"), type: "customer.created", livemode: false,
                object: ["id": "cus_1", "object": "customer"])
            let response = try await app.deliver(testEvent)
            #expect(response.status == .ok)
            #expect(response.json?["outcome"] as? String == "rejected")
            #expect(response.json?["received"] as? Bool == true)
            #expect(try await app.count("SELECT count(*) FROM payment_events") == 0)
            #expect(try app.webhookCount("rejected") == 1)
            let liveEvent = FakeStripe.event(
                id: FakeStripe.newID("evt"), type: "customer.created", livemode: true,
                object: ["id": "cus_1", "object": "customer"])
            let accepted = try await app.deliver(liveEvent)
            #expect(accepted.json?["outcome"] as? String == "ignored")
            #expect(try await app.count("SELECT count(*) FROM payment_events") == 1)
        }
    }
}
