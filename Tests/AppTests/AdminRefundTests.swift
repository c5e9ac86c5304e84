import Foundation
import HTTPTypes
import HummingbirdTesting
import Telegram
import TestSupport
import Testing

@testable import App

/// `POST /admin/v1/telegram/refunds` over the real application, a real database and a fake Bot API.
@Suite struct AdminRefundTests {
    typealias Harness = TelegramAppHarness
    typealias Updates = TelegramUpdates

    @Test func tenConcurrentRefundsMakeOneBotAPICallAndRevokeOnce() async throws {
        try await Harness.with { app in
            try await app.pay(charge: "ch_10", updateID: 1)
            // A slow Telegram keeps the first call in flight while the others arrive.
            app.fake.inject(.delay(.milliseconds(500)), method: "refundStarPayment")
            let answers = try await TelegramWebhookTests.concurrently(10) { _ in
                let response = try await app.refund("ch_10")
                return (response.status, response.text)
            }
            let responses = answers.map { answer in
                (answer.0, (try? JSONSerialization.jsonObject(with: Data(answer.1.utf8))) as? [String: Any])
            }
            let refunded = responses.filter { $0.0 == .ok && $0.1?["already"] == nil }
            #expect(refunded.count == 1)
            #expect(refunded.first?.1?["refunded"] as? Bool == true)
            #expect(refunded.first?.1?["charge_id"] as? String == "ch_10")
            #expect(refunded.first?.1?["entitlement_status"] as? String == "revoked")
            // Every other request was told it is in progress (409) or already done (200, already: true).
            for (status, json) in responses where !(status == .ok && json?["already"] == nil) {
                #expect(status == .conflict || (status == .ok && json?["already"] as? Bool == true))
            }
            // The slow call kept the others out: at least one was turned away while it was in flight.
            #expect(responses.contains { $0.0 == .conflict })
            #expect(app.fake.callCount("refundStarPayment") == 1)
            let call = try #require(app.fake.calls("refundStarPayment").first)
            #expect(call.body["user_id"]?.int == Updates.buyer)
            #expect(call.body["telegram_payment_charge_id"]?.string == "ch_10")
            #expect(
                try await app.count("SELECT count(*) FROM entitlement_changes WHERE action = 'revoke' AND actor = 'admin'")
                    == 1)
            #expect(try await app.count("SELECT count(*) FROM entitlement_changes WHERE action = 'revoke'") == 1)
            #expect(try await app.count("SELECT count(*) FROM user_entitlements WHERE status = 'revoked'") == 1)
            #expect(try await app.count("SELECT count(*) FROM invoices WHERE status = 'refunded'") == 1)
            #expect(try await app.count("SELECT count(*) FROM stars_refunds WHERE status = 'refunded'") == 1)
            #expect(try await app.count("SELECT count(*) FROM payment_events WHERE event_id = 'refund:ch_10'") == 1)
        }
    }

    @Test func aRefundedPaymentUpdateAfterAnAdminRefundIsANoOp() async throws {
        try await Harness.with { app in
            try await app.pay(charge: "ch_then", updateID: 1)
            let refund = try await app.refund("ch_then")
            #expect(refund.status == .ok)
            let update = try await app.postUpdate(Updates.refundedPayment(updateID: 2, charge: "ch_then"))
            #expect(update.status == .ok)
            #expect(try await app.count("SELECT count(*) FROM entitlement_changes WHERE action = 'revoke'") == 1)
            #expect(try await app.count("SELECT count(*) FROM payment_events WHERE event_id = 'refund:ch_then'") == 1)
            #expect(try app.webhookCount("duplicate") == 1)
            // And asking again answers "already", without calling Telegram again.
            let again = try await app.refund("ch_then")
            #expect(again.status == .ok)
            #expect(again.json?["already"] as? Bool == true)
            #expect(again.json?["entitlement_status"] as? String == "revoked")
            #expect(app.fake.callCount("refundStarPayment") == 1)
        }
    }

    @Test func anAdminRefundAfterTheRefundedPaymentUpdateIsAlreadyDone() async throws {
        try await Harness.with { app in
            try await app.pay(charge: "ch_first", updateID: 1)
            _ = try await app.postUpdate(Updates.refundedPayment(updateID: 2, charge: "ch_first"))
            let refund = try await app.refund("ch_first")
            #expect(refund.status == .ok)
            #expect(refund.json?["refunded"] as? Bool == true)
            #expect(refund.json?["already"] as? Bool == true)
            #expect(app.fake.callCount("refundStarPayment") == 0)
            #expect(try await app.count("SELECT count(*) FROM entitlement_changes WHERE action = 'revoke'") == 1)
        }
    }

    @Test func aBotAPIFailureIs502AndALaterRequestRetries() async throws {
        try await Harness.with { app in
            try await app.pay(charge: "ch_fail", updateID: 1)
            // Persistent 500: the client's default policy tries 3 times, then gives up.
            app.fake.inject(.serverError(status: 500), method: "refundStarPayment", times: 3)
            let failed = try await app.refund("ch_fail")
            #expect(failed.status == .badGateway)
            #expect(failed.headers[.contentType] == "application/problem+json")
            #expect(!failed.text.contains(app.fake.token))
            #expect(app.fake.callCount("refundStarPayment") == 3)
            #expect(try await app.count("SELECT count(*) FROM stars_refunds WHERE status = 'failed'") == 1)
            #expect(try await app.count("SELECT count(*) FROM user_entitlements WHERE status = 'active'") == 1)
            #expect(try await app.count("SELECT count(*) FROM entitlement_changes WHERE action = 'revoke'") == 0)

            let retried = try await app.refund("ch_fail")
            #expect(retried.status == .ok)
            #expect(retried.json?["entitlement_status"] as? String == "revoked")
            #expect(retried.json?["already"] == nil)
            #expect(app.fake.callCount("refundStarPayment") == 4)
            #expect(try await app.count("SELECT count(*) FROM stars_refunds WHERE status = 'refunded'") == 1)
        }
    }

    @Test func aRefusedRefundIs502WithTelegramsReason() async throws {
        try await Harness.with { app in
            try await app.pay(charge: "ch_refused", updateID: 1)
            app.fake.inject(.apiError(code: 400, description: "Bad Request: CHARGE_NOT_FOUND"), method: "refundStarPayment")
            let failed = try await app.refund("ch_refused")
            #expect(failed.status == .badGateway)
            #expect((failed.json?["detail"] as? String)?.contains("CHARGE_NOT_FOUND") == true)
            #expect(app.fake.callCount("refundStarPayment") == 1)
            #expect(try await app.count("SELECT count(*) FROM user_entitlements WHERE status = 'active'") == 1)
        }
    }

    @Test func chargeAlreadyRefundedAtTelegramCountsAsSuccess() async throws {
        try await Harness.with { app in
            try await app.pay(charge: "ch_done", updateID: 1)
            app.fake.inject(
                .apiError(code: 400, description: "Bad Request: CHARGE_ALREADY_REFUNDED"), method: "refundStarPayment")
            let refund = try await app.refund("ch_done")
            #expect(refund.status == .ok)
            #expect(refund.json?["entitlement_status"] as? String == "revoked")
            #expect(try await app.count("SELECT count(*) FROM entitlement_changes WHERE action = 'revoke'") == 1)
        }
    }

    @Test func anUnknownChargeIs404AndABadBodyIs400() async throws {
        try await Harness.with { app in
            let unknown = try await app.refund("ch_nobody")
            #expect(unknown.status == .notFound)
            #expect(unknown.headers[.contentType] == "application/problem+json")
            let empty = try await app.admin(.post, "/admin/v1/telegram/refunds", json: #"{"telegram_payment_charge_id":""}"#)
            #expect(empty.status == .badRequest)
            let missing = try await app.admin(.post, "/admin/v1/telegram/refunds", json: "{}")
            #expect(missing.status == .badRequest)
            let malformed = try await app.admin(.post, "/admin/v1/telegram/refunds", json: "{nope")
            #expect(malformed.status == .badRequest)
            #expect(app.fake.callCount("refundStarPayment") == 0)
        }
    }

    @Test func refundsNeedTheAdminToken() async throws {
        try await Harness.with { app in
            try await app.pay(charge: "ch_auth", updateID: 1)
            let missing = try await app.refund("ch_auth", token: nil)
            let wrong = try await app.refund("ch_auth", token: "not-the-admin-token")
            for response in [missing, wrong] {
                #expect(response.status == .unauthorized)
                #expect(response.headers[.contentType] == "application/problem+json")
            }
            #expect(app.fake.callCount("refundStarPayment") == 0)
            #expect(try await app.count("SELECT count(*) FROM stars_refunds") == 0)
        }
    }

    @Test func withoutAnAdminTokenTheRefundRouteDoesNotExist() async throws {
        try await Harness.with(adminToken: nil) { app in
            let response = try await app.refund("ch_x", token: "anything")
            #expect(response.status == .notFound)
        }
    }
}
