import Crypto
import Foundation
import HTTPTypes
import HummingbirdTesting
import PGClient
import Telegram
import TestSupport
import Testing

@testable import App

extension TelegramWebhookTests {
    @Test func aPaymentInAnotherCurrencyIsKeptAsDeadWithoutGranting() async throws {
        try await Harness.with { app in
            let payload = try app.signer.make(plan: Harness.plan, telegramUserID: Updates.buyer)
            let body = Updates.successfulPayment(updateID: 71, charge: "ch_usd", payload: payload)
                .replacingOccurrences(of: #""currency":"XTR""#, with: #""currency":"USD""#)
            #expect(try await app.postUpdate(body).status == .ok)
            #expect(try await app.postUpdate(body).status == .ok)
            #expect(try await app.count("SELECT count(*) FROM payment_events WHERE event_id = 'ch_usd' AND status = 'dead'") == 1)
            #expect(try await app.count("SELECT count(*) FROM user_entitlements") == 0)
            #expect(try app.webhookCount("failed") == 1)
            #expect(try app.webhookCount("duplicate") == 1)
        }
    }

    @Test func onlyDatabaseErrorsThatRecurOnEveryDeliveryMakeAPaymentDead() {
        let recurring = [SQLState.checkViolation, .uniqueViolation, .invalidTextRepresentation, SQLState("22001")]
        for state in recurring {
            #expect(PGError(kind: .server, sqlState: state, message: "x").failsEveryTime)
        }
        let transient: [PGError] = [
            PGError(kind: .server, sqlState: .queryCanceled, message: "statement timeout"),
            PGError(kind: .server, sqlState: .lockNotAvailable, message: "lock timeout"),
            PGError(kind: .server, sqlState: .adminShutdown, message: "shutdown"),
            PGError(kind: .server, sqlState: .serializationFailure, message: "retry"),
            PGError(kind: .server, sqlState: SQLState("53300"), message: "too many connections"),
            PGError(kind: .connection, message: "gone"),
            PGError(kind: .checkoutTimeout, message: "busy"),
        ]
        for error in transient {
            #expect(!error.failsEveryTime, "\(error.kind) \(error.sqlState?.code ?? "")")
        }
    }

    // MARK: Refund updates

    @Test func aRefundedPaymentUpdateRevokesOnce() async throws {
        try await Harness.with { app in
            try await app.pay(charge: "ch_ref", updateID: 80)
            let first = try await app.postUpdate(Updates.refundedPayment(updateID: 81, charge: "ch_ref"))
            let again = try await app.postUpdate(Updates.refundedPayment(updateID: 82, charge: "ch_ref"))
            #expect(first.status == .ok)
            #expect(again.status == .ok)
            #expect(
                try await app.count(
                    "SELECT count(*) FROM entitlement_changes WHERE action = 'revoke' AND actor = 'telegram_stars'") == 1)
            #expect(try await app.count("SELECT count(*) FROM user_entitlements WHERE status = 'revoked'") == 1)
            #expect(try await app.count("SELECT count(*) FROM invoices WHERE status = 'refunded'") == 1)
            #expect(try app.webhookCount("processed") == 2)
            #expect(try app.webhookCount("duplicate") == 1)
        }
    }

    // MARK: Marketing and commands

    @Test func aCTACallbackLogsAClickAndAnswersTheCallback() async throws {
        try await Harness.with { app in
            let response = try await app.postUpdate(
                Updates.callback(updateID: 90, queryID: "cbq-90", data: "cta:buy:spring"))
            #expect(response.status == .ok)
            #expect(
                try await app.count(
                    """
                    SELECT count(*) FROM marketing_clicks c JOIN users u ON u.id = c.user_id
                    WHERE c.cta_type = 'buy' AND c.utm_campaign = 'spring' AND u.telegram_user_id = 424242
                    """) == 1)
            let answers = try await app.fake.waitForCalls("answerCallbackQuery", count: 1)
            #expect(answers.count == 1)
            #expect(answers.first?.body["callback_query_id"]?.string == "cbq-90")
            #expect(try app.metric("marketing_clicks_total", ["cta_type": "buy"]) == 1)
            #expect(try app.webhookCount("processed") == 1)
            // Telegram redelivers: no second click, no second answer.
            _ = try await app.postUpdate(Updates.callback(updateID: 90, queryID: "cbq-90", data: "cta:buy:spring"))
            #expect(try await app.count("SELECT count(*) FROM marketing_clicks") == 1)
            #expect(app.fake.callCount("answerCallbackQuery") == 1)
        }
    }

    @Test func aNonCTACallbackIsAnsweredWithoutAClick() async throws {
        try await Harness.with { app in
            let response = try await app.postUpdate(Updates.callback(updateID: 91, queryID: "cbq-91", data: "menu:open"))
            #expect(response.status == .ok)
            try await app.fake.waitForCalls("answerCallbackQuery", count: 1)
            #expect(try await app.count("SELECT count(*) FROM marketing_clicks") == 0)
            #expect(try app.webhookCount("ignored") == 1)
        }
    }

    @Test func aStartDeepLinkLogsAClick() async throws {
        try await Harness.with { app in
            let response = try await app.postUpdate(Updates.text(updateID: 95, "/start cta_promo"))
            #expect(response.status == .ok)
            #expect(
                try await app.count(
                    """
                    SELECT count(*) FROM marketing_clicks c JOIN users u ON u.id = c.user_id
                    WHERE c.cta_type = 'promo' AND u.telegram_user_id = 424242
                    """) == 1)
            #expect(try app.metric("marketing_clicks_total", ["cta_type": "promo"]) == 1)
            _ = try await app.postUpdate(Updates.text(updateID: 95, "/start cta_promo"))
            #expect(try await app.count("SELECT count(*) FROM marketing_clicks") == 1)
        }
    }

    @Test func buySendsAStarsInvoiceWhosePayloadVerifies() async throws {
        try await Harness.with { app in
            let response = try await app.postUpdate(Updates.text(updateID: 96, "/buy"))
            #expect(response.status == .ok)
            // /buy lists the plans; the button of a one-time plan sends its invoice.
            let choice = try #require(try await app.fake.waitForCalls("sendMessage", count: 1).first)
            let buttons = choice.body["reply_markup"]?["inline_keyboard"]?.array?.compactMap { $0.array?.first } ?? []
            #expect(buttons.compactMap { $0["callback_data"]?.string } == ["buy:" + Harness.plan])
            #expect(
                try await app.postUpdate(
                    Updates.callback(updateID: 95, queryID: "q-buy", data: "buy:" + Harness.plan)
                ).status == .ok)
            let invoices = try await app.fake.waitForCalls("sendInvoice", count: 1)
            let call = try #require(invoices.first)
            #expect(call.status == 200)
            #expect(call.body["currency"]?.string == "XTR")
            #expect(call.body["chat_id"]?.int == Updates.buyer)
            #expect(call.body["provider_token"]?.string ?? "" == "")
            let prices = call.body["prices"]?.array ?? []
            #expect(prices.count == 1)
            #expect(prices.first?["amount"]?.int == Int64(Harness.planPrice))
            let payload = try #require(call.body["payload"]?.string)
            #expect(payload.utf8.count <= 128)
            let verified = try app.signer.verify(payload, expectedTelegramUserID: Updates.buyer, maxAge: 60)
            #expect(verified.plan == Harness.plan)
            // The invoice it sent passes pre-checkout.
            let answer = try await app.postUpdate(Updates.preCheckout(updateID: 97, payload: payload))
            #expect(answer.json?["ok"] as? Bool == true)
        }
    }

    @Test func statusAnswersWithTheEntitlement() async throws {
        try await Harness.with { app in
            _ = try await app.postUpdate(Updates.text(updateID: 98, "/status"))
            try await app.pay(charge: "ch_status", updateID: 99)
            _ = try await app.postUpdate(Updates.text(updateID: 100, "/status@fake_bot"))
            let messages = try await app.fake.waitForCalls("sendMessage", count: 2)
            #expect(messages[0].body["text"]?.string?.contains("no active plan") == true)
            #expect(messages[1].body["text"]?.string?.contains(Harness.plan) == true)
            #expect(messages[1].body["chat_id"]?.int == Updates.buyer)
        }
    }

    // MARK: Helpers

    /// Runs `work` `count` times at once and returns the results in index order.
    static func concurrently<T: Sendable>(
        _ count: Int, _ work: @escaping @Sendable (Int) async throws -> T
    ) async throws -> [T] {
        try await withThrowingTaskGroup(of: (Int, T).self) { group in
            for index in 0..<count { group.addTask { (index, try await work(index)) } }
            var results: [(Int, T)] = []
            for try await result in group { results.append(result) }
            return results.sorted { $0.0 < $1.0 }.map(\.1)
        }
    }

    /// Days between the default plan's `starts_at` and `expires_at` for the buyer.
    static func entitlementDays(_ app: Harness) async throws -> Double {
        try await app.pool.withConnection { connection in
            try await connection.query(
                """
                SELECT extract(epoch FROM e.expires_at - e.starts_at) / 86400 AS days
                FROM user_entitlements e JOIN users u ON u.id = e.user_id
                WHERE u.telegram_user_id = 424242 AND e.plan = 'boost_week'
                """
            ).first?.decode("days", as: Double.self) ?? -1
        }
    }
}
