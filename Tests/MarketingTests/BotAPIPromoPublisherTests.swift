import Foundation
import Logging
import Marketing
import PGClient
import Telegram
import TestSupport
import Testing

@Suite struct BotAPIPromoPublisherTests {
    /// - Parameter timeout: generous unless a test needs a call to time out.
    static func publisher(_ fake: FakeBotAPI, timeout: Duration = .seconds(20)) -> BotAPIPromoPublisher {
        BotAPIPromoPublisher(
            client: BotAPIClient(
                configuration: BotAPIConfiguration(token: fake.token, baseURL: fake.baseURL, requestTimeout: timeout),
                logger: SchedulerHarness.quietLogger))
    }

    @Test func rateLimitedThenSuccessPostsOnceThroughTheBotAPI() async throws {
        try await FakeBotAPI.with { fake in
            try await TestDatabase.with { _, pool in
                try await MarketingFixtures.promo(pool, campaign: "fake", position: 1, text: "Go Premium")
                fake.inject(.rateLimited(retryAfter: 1), method: "sendMessage")
                let publisher = Self.publisher(fake)
                let instances = ["a", "b"].map {
                    PromoScheduler.test(
                        MarketingFixtures.schedulerConfiguration(
                            campaign: "fake", interval: .seconds(3600), instance: $0, retryWindow: nil),
                        pool: pool, publisher: publisher)
                }
                let harness = SchedulerHarness.start(instances)
                let calls = try await fake.waitForCalls("sendMessage", count: 2, timeout: .seconds(60))
                let recorded = try await eventually {
                    try await MarketingFixtures.posts(pool, campaign: "fake").first?.status == "sent"
                }
                try await Task.sleep(for: .milliseconds(500))
                try await harness.stop()
                #expect(recorded)
                #expect(fake.callCount("sendMessage") == 2)
                #expect(calls.map(\.status) == [429, 200])
                #expect(calls[1].receivedAt.timeIntervalSince(calls[0].receivedAt) >= 0.95)
                let body = calls[1].body
                #expect(body["chat_id"]?.string == "@promo_channel")
                #expect(body["text"]?.string == "Go Premium")
                let keyboard = body["reply_markup"]?["inline_keyboard"]
                #expect(keyboard?[0]?[0]?["callback_data"]?.string == "cta:buy:fake")
                #expect(keyboard?[1]?[0]?["url"]?.string == "https://t.me/bot/app")
                let posts = try await MarketingFixtures.posts(pool, campaign: "fake")
                #expect(posts.count == 1)
                #expect(posts.first?.attempts == 2)
                #expect(posts.first?.messageID != nil)
                // The token never reaches the stored error.
                #expect(posts.first?.lastError?.contains(fake.token) == false)
            }
        }
    }

    @Test func failuresAreClassifiedByWhatTheyMeanForARetry() async throws {
        try await FakeBotAPI.with { fake in
            let publisher = Self.publisher(fake, timeout: .seconds(5))
            fake.inject(.rateLimited(retryAfter: 3), method: "sendMessage")
            fake.inject(.serverError(status: 502), method: "sendMessage")
            fake.inject(.apiError(code: 400, description: "Bad Request: chat not found"), method: "sendMessage")
            fake.inject(.delay(.seconds(30)), method: "sendMessage")
            var kinds: [PromoPublishError.Kind] = []
            for _ in 0..<4 {
                do {
                    _ = try await publisher.publish(chatID: "-1001234", text: "t", buttons: [])
                    Issue.record("expected a failure")
                } catch let error as PromoPublishError {
                    kinds.append(error.kind)
                    if error.kind == .rateLimited { #expect(error.retryAfter == .seconds(3)) }
                }
            }
            #expect(kinds == [.rateLimited, .temporary, .permanent, .outcomeUnknown])
            // One attempt per publish: the scheduler owns retries.
            #expect(fake.callCount("sendMessage") == 4)
            let id = try await publisher.publish(
                chatID: "-1001234", text: "ok", buttons: [[PromoButton(text: "Buy", action: .callback("cta:buy"))]])
            #expect(id > 0)
            #expect(fake.calls("sendMessage").last?.body["chat_id"]?.int == -1_001_234)
        }
    }
}
