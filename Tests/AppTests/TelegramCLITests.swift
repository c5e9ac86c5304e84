import Foundation
import TestSupport
import Testing

@testable import App

/// `telebot telegram set-webhook` and `telebot telegram webhook-info`, run as the built binary against FakeBotAPI.
@Suite struct TelegramCLITests {
    static let secret = "cli-webhook-secret-0123456789abcdefXYZ"

    func run(_ arguments: [String], _ fake: FakeBotAPI, secret: String? = TelegramCLITests.secret) async throws
        -> (code: Int32?, stdout: String, stderr: String)
    {
        var environment = ["TELEGRAM_BOT_TOKEN": fake.token, "TELEGRAM_API_BASE_URL": fake.baseURL]
        if let secret { environment["TELEGRAM_WEBHOOK_SECRET"] = secret }
        let process = try ServeProcess(arguments: arguments, environment: environment, port: 0)
        defer { process.cleanUp() }
        let code = await process.exitCode(timeout: .seconds(30))
        return (code, process.stdout, process.stderr)
    }

    @Test func setWebhookSendsTheSecretAndUpdateTypesAndWebhookInfoPrintsJSONWithoutTheToken() async throws {
        try await FakeBotAPI.with { fake in
            let set = try await run(["telegram", "set-webhook", "--url", "https://bot.example.com/webhooks/telegram"], fake)
            #expect(set.code == 0, "\(set.stderr)")
            let call = try #require(fake.calls("setWebhook").first)
            #expect(call.body["url"]?.string == "https://bot.example.com/webhooks/telegram")
            #expect(call.body["secret_token"]?.string == Self.secret)
            #expect(call.body["allowed_updates"]?.array?.compactMap(\.string) == ["message", "callback_query", "pre_checkout_query"])
            #expect(call.body["drop_pending_updates"]?.bool == false)
            #expect(!set.stdout.contains(Self.secret) && !set.stdout.contains(fake.token))

            let info = try await run(["telegram", "webhook-info"], fake, secret: nil)
            #expect(info.code == 0, "\(info.stderr)")
            let json = try #require(
                try JSONSerialization.jsonObject(with: Data(info.stdout.utf8)) as? [String: Any], "\(info.stdout)")
            #expect(json["url"] as? String == "https://bot.example.com/webhooks/telegram")
            #expect(!info.stdout.contains(fake.token) && !info.stderr.contains(fake.token))
        }
    }

    @Test func setWebhookNeedsTheSecretAndAnHTTPURL() async throws {
        try await FakeBotAPI.with { fake in
            let noSecret = try await run(["telegram", "set-webhook", "--url", "https://bot.example.com/x"], fake, secret: nil)
            #expect(noSecret.code == 2)
            #expect(noSecret.stderr.contains("TELEGRAM_WEBHOOK_SECRET"))
            let badURL = try await run(["telegram", "set-webhook", "--url", "not a url"], fake)
            #expect(badURL.code == 2)
            #expect(fake.callCount("setWebhook") == 0)
            fake.inject(.apiError(code: 400, description: "Bad Request: bad webhook: HTTPS url must be provided"), method: "setWebhook")
            let refused = try await run(["telegram", "set-webhook", "--url", "http://bot.example.com/x"], fake)
            #expect(refused.code == 1)
            #expect(refused.stderr.contains("HTTPS url must be provided"))
            #expect(!refused.stderr.contains(fake.token))
        }
    }
}
