import Crypto
import Foundation
import HTTPTypes
import HummingbirdTesting
import PGClient
import Telegram
import TestSupport
import Testing

@testable import App

/// `POST /webhooks/telegram` over the real application, a real database and a fake Bot API.
@Suite struct TelegramWebhookTests {
    typealias Harness = TelegramAppHarness
    typealias Updates = TelegramUpdates

    // MARK: Authentication and decoding

    @Test func aMissingOrWrongSecretIs401AndWritesNothing() async throws {
        try await Harness.with { app in
            let payload = try app.signer.make(plan: Harness.plan, telegramUserID: Updates.buyer)
            let body = Updates.successfulPayment(updateID: 1, charge: "ch_secret", payload: payload)
            let missing = try await app.postUpdate(body, secret: nil)
            let wrong = try await app.postUpdate(body, secret: "not-the-secret")
            let prefix = try await app.postUpdate(body, secret: String(Harness.webhookSecret.dropLast()))
            for response in [missing, wrong, prefix] {
                #expect(response.status == .unauthorized)
                #expect(response.headers[.contentType] == "application/problem+json")
            }
            #expect(try await app.count("SELECT count(*) FROM telegram_updates") == 0)
            #expect(try await app.count("SELECT count(*) FROM payment_events") == 0)
            #expect(try await app.count("SELECT count(*) FROM users") == 0)
            #expect(try app.webhookCount("rejected") == 3)
            #expect(try app.webhookCount("processed") == 0)
        }
    }

    @Test func malformedJSONWithTheSecretIsKeptRawAsDeadAnd200() async throws {
        try await Harness.with { app in
            let response = try await app.postUpdate(#"{"update_id": 5, "message": "#)
            #expect(response.status == .ok)
            // The same JSON answer as every other update (the webhook's documented 200).
            #expect(response.headers[.contentType] == "application/json")
            #expect(response.text == "{}")
            #expect(try await app.count("SELECT count(*) FROM telegram_updates") == 0)
            #expect(
                try await app.count(
                    "SELECT count(*) FROM payment_events WHERE status = 'dead' AND raw_body IS NOT NULL AND payload IS NULL")
                    == 1)
            #expect(try app.webhookCount("rejected") == 0)
            #expect(try app.webhookCount("failed") == 1)
        }
    }

    @Test func unknownUpdateKindsAndUnknownFieldsAreAcceptedAndIgnored() async throws {
        try await Harness.with { app in
            let poll = #"{"update_id":31,"poll":{"id":"p1","question":"?","options":[],"is_closed":false}}"#
            let reaction = #"{"update_id":32,"message_reaction":{"chat":{"id":1,"type":"private"},"date":1}}"#
            let plainText = Updates.text(updateID: 33, "hello there")
                .replacingOccurrences(
                    of: #""date":\#(Updates.messageDate)"#, with: #""date":\#(Updates.messageDate),"brand_new_field":{"x":[1,2]}"#)
            for body in [poll, reaction, plainText] {
                let response = try await app.postUpdate(body)
                #expect(response.status == .ok)
            }
            #expect(try await app.count("SELECT count(*) FROM telegram_updates") == 3)
            #expect(try await app.count("SELECT count(*) FROM payment_events") == 0)
            #expect(try await app.count("SELECT count(*) FROM marketing_clicks") == 0)
            #expect(try app.webhookCount("ignored") == 3)
            #expect(app.fake.calls().isEmpty)
        }
    }

    // MARK: Pre-checkout

    @Test func preCheckoutWithTheRightPlanAmountAndUserIsAcceptedInTheResponse() async throws {
        try await Harness.with { app in
            let payload = try app.signer.make(plan: Harness.plan, telegramUserID: Updates.buyer)
            let response = try await app.postUpdate(Updates.preCheckout(updateID: 10, queryID: "q-ok", payload: payload))
            #expect(response.status == .ok)
            let json = try #require(response.json)
            #expect(json["method"] as? String == "answerPreCheckoutQuery")
            #expect(json["pre_checkout_query_id"] as? String == "q-ok")
            #expect(json["ok"] as? Bool == true)
            #expect(json["error_message"] == nil)
            #expect(app.fake.callCount("answerPreCheckoutQuery") == 0)
            #expect(try app.webhookCount("processed") == 1)
        }
    }

    @Test func preCheckoutRefusesWhatDoesNotMatchWithAMessage() async throws {
        try await Harness.with { app in
            let buyer = Updates.buyer
            let good = try app.signer.make(plan: Harness.plan, telegramUserID: buyer)
            let otherKey = StarsInvoicePayloadSigner(key: SymmetricKey(size: .bits256))
            let tamperedPlan = good.replacingOccurrences(of: ":\(Harness.plan):", with: ":stripe_only:")
            var tamperedTag = good
            let last = tamperedTag.removeLast()
            tamperedTag.append(last == "A" ? "B" : "A")
            let cases: [(name: String, body: String)] = [
                ("wrong amount", Updates.preCheckout(updateID: 11, amount: Harness.planPrice - 1, payload: good)),
                ("wrong currency", Updates.preCheckout(updateID: 12, currency: "USD", payload: good)),
                (
                    "inactive plan",
                    Updates.preCheckout(
                        updateID: 13, amount: 100, payload: try app.signer.make(plan: "old_plan", telegramUserID: buyer))
                ),
                (
                    "plan without a Stars price",
                    Updates.preCheckout(
                        updateID: 14, payload: try app.signer.make(plan: "stripe_only", telegramUserID: buyer))
                ),
                (
                    "payload signed with another key",
                    Updates.preCheckout(
                        updateID: 15, payload: try otherKey.make(plan: Harness.plan, telegramUserID: buyer))
                ),
                ("payload with another plan", Updates.preCheckout(updateID: 16, payload: tamperedPlan)),
                ("payload with an altered tag", Updates.preCheckout(updateID: 17, payload: tamperedTag)),
                ("payload of another user", Updates.preCheckout(updateID: 18, telegramID: buyer + 1, payload: good)),
                ("not our payload", Updates.preCheckout(updateID: 19, payload: "premium_monthly")),
            ]
            #expect(tamperedPlan != good)
            for (name, body) in cases {
                let response = try await app.postUpdate(body)
                #expect(response.status == .ok, "\(name)")
                let json = try #require(response.json, "\(name)")
                #expect(json["method"] as? String == "answerPreCheckoutQuery", "\(name)")
                #expect(json["ok"] as? Bool == false, "\(name)")
                let message = json["error_message"] as? String ?? ""
                #expect(!message.isEmpty, "\(name)")
            }
            #expect(try await app.count("SELECT count(*) FROM payment_events") == 0)
        }
    }

    @Test func aRedeliveredPreCheckoutIsAnsweredAgainAndCountedAsDuplicate() async throws {
        try await Harness.with { app in
            let payload = try app.signer.make(plan: Harness.plan, telegramUserID: Updates.buyer)
            let body = Updates.preCheckout(updateID: 20, queryID: "q-again", payload: payload)
            let first = try await app.postUpdate(body)
            let second = try await app.postUpdate(body)
            #expect(first.json?["ok"] as? Bool == true)
            #expect(second.json?["ok"] as? Bool == true)
            #expect(try app.webhookCount("processed") == 1)
            #expect(try app.webhookCount("duplicate") == 1)
        }
    }

    // MARK: Successful payments

    @Test func aPaymentGrantsThePlanWithLedgerInvoiceAuditAndMetrics() async throws {
        try await Harness.with { app in
            try await app.pay(charge: "ch_one", updateID: 40)
            #expect(
                try await app.count(
                    """
                    SELECT count(*) FROM payment_events WHERE provider = 'telegram_stars' AND event_id = 'ch_one'
                      AND status = 'processed'
                    """) == 1)
            #expect(
                try await app.count(
                    """
                    SELECT count(*) FROM invoices WHERE provider = 'telegram_stars' AND provider_invoice_id = 'ch_one'
                      AND status = 'paid' AND currency = 'XTR' AND amount = 50
                    """) == 1)
            #expect(
                try await app.count(
                    "SELECT count(*) FROM entitlement_changes WHERE actor = 'telegram_stars' AND plan = 'boost_week'") == 1)
            let days = try await Self.entitlementDays(app)
            #expect(abs(days - 7) < 0.01)
            #expect(try app.metric("telegram_payments_total", ["result": "success"]) == 1)
            #expect(try app.metric("telegram_payment_value_total", ["currency": "XTR"]) == 50)
            #expect(try app.webhookCount("processed") == 1)
        }
    }

    @Test func aDuplicateUpdateIDHasNoSecondEffect() async throws {
        try await Harness.with { app in
            try await app.pay(charge: "ch_dup", updateID: 50)
            try await app.pay(charge: "ch_dup", updateID: 50)
            // Same update id, even with another charge in it: the update was handled, nothing more happens.
            try await app.pay(charge: "ch_other", updateID: 50)
            #expect(try await app.count("SELECT count(*) FROM payment_events") == 1)
            #expect(try await app.count("SELECT count(*) FROM entitlement_changes") == 1)
            #expect(try await app.count("SELECT count(*) FROM telegram_updates") == 1)
            #expect(abs(try await Self.entitlementDays(app) - 7) < 0.01)
            #expect(try app.webhookCount("processed") == 1)
            #expect(try app.webhookCount("duplicate") == 2)
            #expect(try app.metric("telegram_payments_total", ["result": "success"]) == 1)
        }
    }

    @Test func thirtyConcurrentCopiesOfOneUpdateApplyOnce() async throws {
        try await Harness.with { app in
            let payload = try app.signer.make(plan: Harness.plan, telegramUserID: Updates.buyer)
            let body = Updates.successfulPayment(updateID: 60, charge: "ch_30", payload: payload)
            let statuses = try await Self.concurrently(30) { _ in try await app.postUpdate(body).status }
            #expect(statuses.allSatisfy { $0 == .ok })
            #expect(try await app.count("SELECT count(*) FROM payment_events") == 1)
            #expect(try await app.count("SELECT count(*) FROM entitlement_changes") == 1)
            #expect(try await app.count("SELECT count(*) FROM invoices") == 1)
            #expect(abs(try await Self.entitlementDays(app) - 7) < 0.01)
            #expect(try app.webhookCount("processed") == 1)
            #expect(try app.webhookCount("duplicate") == 29)
        }
    }

    @Test func thirtyConcurrentDeliveriesOfOneChargeUnderDifferentUpdateIDsApplyOnce() async throws {
        try await Harness.with { app in
            let payload = try app.signer.make(plan: Harness.plan, telegramUserID: Updates.buyer)
            let statuses = try await Self.concurrently(30) { index in
                try await app.postUpdate(
                    Updates.successfulPayment(updateID: 100 + Int64(index), charge: "ch_same", payload: payload)
                ).status
            }
            #expect(statuses.allSatisfy { $0 == .ok })
            #expect(try await app.count("SELECT count(*) FROM telegram_updates") == 30)
            #expect(try await app.count("SELECT count(*) FROM payment_events") == 1)
            #expect(try await app.count("SELECT count(*) FROM entitlement_changes") == 1)
            #expect(abs(try await Self.entitlementDays(app) - 7) < 0.01)
            #expect(try app.metric("telegram_payments_total", ["result": "success"]) == 1)
            #expect(try app.webhookCount("processed") == 1)
            #expect(try app.webhookCount("duplicate") == 29)
        }
    }

    @Test func twoDifferentChargesAtOnceExtendByTwoPeriods() async throws {
        try await Harness.with { app in
            let payloads = [
                try app.signer.make(plan: Harness.plan, telegramUserID: Updates.buyer),
                try app.signer.make(plan: Harness.plan, telegramUserID: Updates.buyer),
            ]
            let statuses = try await Self.concurrently(2) { index in
                try await app.postUpdate(
                    Updates.successfulPayment(updateID: 200 + Int64(index), charge: "ch_two_\(index)", payload: payloads[index])
                ).status
            }
            #expect(statuses == [.ok, .ok])
            #expect(try await app.count("SELECT count(*) FROM payment_events") == 2)
            #expect(try await app.count("SELECT count(*) FROM entitlement_changes") == 2)
            #expect(try await app.count("SELECT count(*) FROM entitlement_grants WHERE state = 'active'") == 2)
            #expect(abs(try await Self.entitlementDays(app) - 14) < 0.01)
            #expect(try app.metric("telegram_payment_value_total", ["currency": "XTR"]) == 100)
        }
    }

    @Test func aPaymentWithAForgedPayloadIsKeptAsDeadWithoutGranting() async throws {
        try await Harness.with { app in
            let forged = try StarsInvoicePayloadSigner(key: SymmetricKey(size: .bits256))
                .make(plan: Harness.plan, telegramUserID: Updates.buyer)
            let response = try await app.postUpdate(
                Updates.successfulPayment(updateID: 70, charge: "ch_forged", payload: forged))
            #expect(response.status == .ok)
            #expect(try await app.count("SELECT count(*) FROM payment_events WHERE event_id = 'ch_forged' AND status = 'dead'") == 1)
            #expect(try await app.count("SELECT count(*) FROM user_entitlements") == 0)
            #expect(try app.metric("telegram_payments_total", ["result": "failed"]) == 1)
            #expect(try app.webhookCount("failed") == 1)
        }
    }
}
