import Foundation
import PGClient
import TestSupport
import Testing

@testable import App

/// `POST /admin/v1/stripe/refunds`: one Stripe refund and one revoke, however many requests.
@Suite struct AdminStripeRefundTests {
    static func buyer(_ app: AdminAppHarness, telegramID: Int64 = 515_151) async throws -> Int64 {
        try await app.pool.withConnection { connection in
            try await connection.query(
                "INSERT INTO users (telegram_user_id, username) VALUES (\(telegramID), 'refundee') RETURNING id"
            ).first?.decode("id", as: Int64.self) ?? 0
        }
    }

    @Test func tenConcurrentIdenticalRefundsMakeOneStripeCallAndOneRevoke() async throws {
        try await AdminAppHarness.with { app in
            let user = try await Self.buyer(app)
            try await app.payStripeInvoice(userID: user, invoiceID: "in_conc", paymentIntent: "pi_conc")
            #expect(try await app.count("SELECT count(*) FROM user_entitlements WHERE status = 'active'") == 1)
            // Stripe answers slowly, so the ten overlap while the first holds the intent.
            app.stripe.inject(.delay(.milliseconds(300)), count: 1, path: "/v1/refunds")
            let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<10 {
                    group.addTask {
                        Int(try await app.stripeRefund(#"{"invoice_id":"in_conc","reason":"requested_by_customer"}"#).status.code)
                    }
                }
                return try await group.reduce(into: [Int]()) { $0.append($1) }
            }
            #expect(statuses.allSatisfy { $0 == 200 || $0 == 409 }, "\(statuses)")
            #expect(statuses.contains(200))
            let calls = app.stripe.requests(path: "/v1/refunds")
            #expect(calls.count == 1)
            #expect(calls.first?.formFields.first { $0.name == "payment_intent" }?.value == "pi_conc")
            #expect(calls.first?.idempotencyKey?.hasPrefix("telebot-refund-in:in_conc-") == true)
            #expect(try await app.count("SELECT count(*) FROM entitlement_changes WHERE action = 'revoke'") == 1)
            #expect(try await app.count("SELECT count(*) FROM entitlement_changes WHERE actor = 'admin'") == 1)
            #expect(try await app.count("SELECT count(*) FROM entitlement_grants WHERE state = 'refunded'") == 1)
            #expect(try await app.count("SELECT count(*) FROM invoices WHERE status = 'refunded'") == 1)
            #expect(try await app.count("SELECT count(*) FROM user_entitlements WHERE status = 'revoked'") == 1)

            // Asked again later: already refunded, no call.
            let again = try await app.stripeRefund(#"{"invoice_id":"in_conc"}"#)
            #expect(again.status == .ok)
            #expect(again.json?["already"] as? Bool == true)
            #expect(app.stripe.requests(path: "/v1/refunds").count == 1)

            // Stripe's own charge.refunded for it arrives afterwards: the same path, nothing ends twice.
            let webhook = FakeStripe.chargeRefunded(
                invoice: "in_conc", paymentIntent: "pi_conc", userID: user, plan: "premium_monthly")
            #expect(try await app.stripeApp.deliver(webhook).status == .ok)
            #expect(try await app.count("SELECT count(*) FROM entitlement_changes WHERE action = 'revoke'") == 1)
            #expect(try await app.count("SELECT count(*) FROM user_entitlements WHERE status = 'revoked'") == 1)
        }
    }

    @Test func aRefundByPaymentIntentEndsOnlyWhatThatPaymentBought() async throws {
        try await AdminAppHarness.with { app in
            let user = try await Self.buyer(app)
            try await app.pool.withConnection { connection in
                try await connection.execute(
                    """
                    INSERT INTO entitlement_grants (user_id, plan, source, payment_key, kind, purchased_at, duration, refs)
                    VALUES (\(user), 'premium_monthly', 'stripe', 'stripe:payment:pi_one', 'duration', now(),
                        interval '30 days', ARRAY['pi:pi_one', 'cs:cs_one'])
                    """)
                _ = try await connection.query(
                    "SELECT * FROM entitlement_recompute(\(user), 'premium_monthly', 'stripe', 'test', NULL, NULL)")
            }
            try await app.telegram.pay(charge: "ch_keep", updateID: 3200, telegramID: 515_151)
            let response = try await app.stripeRefund(#"{"payment_intent":"pi_one","reason":"duplicate"}"#)
            #expect(response.status == .ok)
            #expect(response.json?["payment"] as? String == "pi:pi_one")
            #expect(app.stripe.requests(path: "/v1/refunds").first?.formFields.first { $0.name == "reason" }?.value == "duplicate")
            #expect(try await app.count("SELECT count(*) FROM payment_refunds WHERE ref = 'pi:pi_one'") == 1)
            #expect(
                try await app.count("SELECT count(*) FROM user_entitlements WHERE plan = 'premium_monthly' AND status = 'revoked'") == 1)
            #expect(try await app.count("SELECT count(*) FROM user_entitlements WHERE plan = 'boost_week' AND status = 'active'") == 1)
        }
    }

    @Test func badInputIsProblemJSONAndWritesNothing() async throws {
        try await AdminAppHarness.with { app in
            let user = try await Self.buyer(app)
            try await app.payStripeInvoice(userID: user, invoiceID: "in_bad", paymentIntent: "pi_bad")
            let cases: [(String, Int)] = [
                (#"{"invoice_id":"in_bad","payment_intent":"pi_bad"}"#, 400),
                (#"{}"#, 400),
                (#"{"invoice_id":"in_bad","reason":"because"}"#, 400),
                (#"{"invoice_id":""}"#, 400),
                (#"{"invoice_id":"in bad"}"#, 400),
                (#"{"invoice_id":"#, 400),
                (#"{"invoice_id":"in_unknown"}"#, 404),
            ]
            for (json, status) in cases {
                let response = try await app.stripeRefund(json)
                #expect(Int(response.status.code) == status, "\(json)")
                #expect(response.headers[.contentType] == "application/problem+json")
            }
            #expect(
                try await app.admin(.post, "/admin/v1/stripe/refunds", json: #"{"invoice_id":"in_bad"}"#, token: nil).status
                    == .unauthorized)
            #expect(app.stripe.requests(path: "/v1/refunds").isEmpty)
            #expect(try await app.count("SELECT count(*) FROM stripe_refunds") == 0)
            #expect(try await app.count("SELECT count(*) FROM payment_refunds") == 0)
            #expect(try await app.count("SELECT count(*) FROM user_entitlements WHERE status = 'active'") == 1)
        }
    }

    @Test func aStripeFailureIs502AndALaterRequestRetriesWithANewKey() async throws {
        try await AdminAppHarness.with { app in
            let user = try await Self.buyer(app)
            try await app.payStripeInvoice(userID: user, invoiceID: "in_fail", paymentIntent: "pi_fail")
            app.stripe.inject(.cardDeclined(), count: 1, path: "/v1/refunds")
            let failed = try await app.stripeRefund(#"{"invoice_id":"in_fail"}"#)
            #expect(failed.status == .badGateway)
            #expect(try await app.count("SELECT count(*) FROM stripe_refunds WHERE status = 'failed'") == 1)
            #expect(try await app.count("SELECT count(*) FROM user_entitlements WHERE status = 'active'") == 1)
            let retried = try await app.stripeRefund(#"{"invoice_id":"in_fail"}"#)
            #expect(retried.status == .ok)
            let keys = app.stripe.requests(path: "/v1/refunds").compactMap(\.idempotencyKey)
            #expect(keys == ["telebot-refund-in:in_fail-1", "telebot-refund-in:in_fail-2"])
            #expect(try await app.count("SELECT count(*) FROM user_entitlements WHERE status = 'revoked'") == 1)
        }
    }
}
