import Foundation
import PGClient
import Telegram
import TestSupport
import Testing

@testable import App

/// `/buy` with plan buttons, `/paysupport` and `/terms` (issue #19), against FakeBotAPI.
@Suite struct BotCommandTests {
    typealias Harness = TelegramAppHarness
    typealias Updates = TelegramUpdates

    @Test func buyListsEverySellableStarsPlanAndARecurringPlanGetsASubscriptionLink() async throws {
        try await Harness.with { app in
            _ = try await app.pool.withConnection { connection in
                try await connection.execute(
                    """
                    INSERT INTO plans (code, name, period_days, stars_price, recurring, active)
                    VALUES ('stars_monthly', 'Stars monthly', 30, 300, true, true)
                    """)
            }
            #expect(try await app.postUpdate(Updates.text(updateID: 500, "/buy")).status == .ok)
            let choice = try #require(try await app.fake.waitForCalls("sendMessage", count: 1).first)
            let buttons = choice.body["reply_markup"]?["inline_keyboard"]?.array?.compactMap { $0.array?.first } ?? []
            // Active plans with a Stars price only (not the Stripe-only or inactive ones).
            #expect(Set(buttons.compactMap { $0["callback_data"]?.string }) == ["buy:boost_week", "buy:stars_monthly"])

            #expect(
                try await app.postUpdate(Updates.callback(updateID: 501, queryID: "q-sub", data: "buy:stars_monthly"))
                    .status == .ok)
            let link = try #require(try await app.fake.waitForCalls("createInvoiceLink", count: 1).first)
            #expect(link.body["subscription_period"]?.int == 2_592_000)
            #expect(link.body["currency"]?.string == "XTR")
            #expect(link.body["prices"]?[0]?["amount"]?.int == 300)
            let payload = try #require(link.body["payload"]?.string)
            #expect(try app.signer.verify(payload, expectedTelegramUserID: Updates.buyer, maxAge: 60).plan == "stars_monthly")
            let messages = try await app.fake.waitForCalls("sendMessage", count: 2)
            let pay = messages[1]
            #expect(pay.body["chat_id"]?.int == Updates.buyer)
            let url = pay.body["reply_markup"]?["inline_keyboard"]?[0]?[0]?["url"]?.string
            #expect(url?.hasPrefix("https://t.me/$") == true)
            #expect(app.fake.callCount("sendInvoice") == 0)
            #expect(app.fake.callCount("answerCallbackQuery") == 1)

            // A redelivered button press sends nothing more; `cta:` buttons still log clicks.
            _ = try await app.postUpdate(Updates.callback(updateID: 501, queryID: "q-sub", data: "buy:stars_monthly"))
            #expect(app.fake.callCount("createInvoiceLink") == 1)
            _ = try await app.postUpdate(Updates.callback(updateID: 502, queryID: "q-cta", data: "cta:buy:spring"))
            _ = try await app.fake.waitForCalls("answerCallbackQuery", count: 2)
            #expect(try await app.count("SELECT count(*) FROM marketing_clicks") == 1)
        }
    }

    @Test func anUnknownOrUnsellablePlanButtonIsAnsweredWithoutAnInvoice() async throws {
        try await Harness.with { app in
            _ = try await app.postUpdate(Updates.callback(updateID: 510, queryID: "q-x", data: "buy:stripe_only"))
            _ = try await app.postUpdate(Updates.callback(updateID: 511, queryID: "q-y", data: "buy:nope"))
            let answers = try await app.fake.waitForCalls("answerCallbackQuery", count: 2)
            #expect(answers.allSatisfy { $0.body["text"]?.string == "This plan is not for sale." })
            #expect(app.fake.callCount("sendInvoice") == 0)
            #expect(app.fake.callCount("createInvoiceLink") == 0)
        }
    }

    @Test func paysupportAndTermsAnswerTheirSettings() async throws {
        try await Harness.with { app in
            _ = try await app.postUpdate(Updates.text(updateID: 520, "/paysupport"))
            _ = try await app.fake.waitForCalls("sendMessage", count: 1)
            _ = try await app.postUpdate(Updates.text(updateID: 521, "/terms"))
            let messages = try await app.fake.waitForCalls("sendMessage", count: 2)
            #expect(messages[0].body["text"]?.string == AppConfig.defaultSupportText)
            #expect(messages[1].body["text"]?.string == "Terms are not configured.")
        }
    }
}
