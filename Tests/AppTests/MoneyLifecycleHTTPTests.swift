import Billing
import Crypto
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import PGClient
import Telegram
import TestSupport
import Testing

@testable import App

/// The money lifecycle rules that live at the HTTP edge: Stars renewals (rule 9), dead Stars payments replayed by
/// an operator, one subscription per plan and provider (rule 6), and idempotent admin grants.
@Suite struct MoneyLifecycleHTTPTests {
    typealias Harness = TelegramAppHarness
    typealias Updates = TelegramUpdates

    static func subscriptionPayment(
        updateID: Int64, charge: String, payload: String, expiresAt: Int64, first: Bool
    ) -> String {
        Updates.successfulPayment(updateID: updateID, charge: charge, payload: payload).replacingOccurrences(
            of: #""provider_payment_charge_id":"""#,
            with: #""provider_payment_charge_id":"","subscription_expiration_date":\#(expiresAt),"is_recurring":true,"#
                + #""is_first_recurring":\#(first)"#)
    }

    @Test func rule9ARenewalIsAppliedFromTheRecordedSubscriptionWhateverTheBotTokenIsNow() async throws {
        try await Harness.with { app in
            let firstEnd = Updates.messageDate + 30 * 86_400
            // The first payment's payload was signed under a bot token that has since been rotated: today's key
            // cannot verify it, so the subscription is recorded as it was at that first payment.
            let oldPayload = try StarsInvoicePayloadSigner(key: SymmetricKey(size: .bits256))
                .make(plan: Harness.plan, telegramUserID: Updates.buyer)
            try await app.pool.withConnection { connection in
                let user = try await UserStore.upsert(
                    connection, profile: TelegramProfile(telegramID: Updates.buyer, username: "ada", firstName: "Ada"))
                try await connection.execute(
                    """
                    INSERT INTO stars_subscriptions (first_charge_id, user_id, plan, invoice_payload, expires_at)
                    VALUES ('ch_first', \(user.id), \(Harness.plan), \(oldPayload), to_timestamp(\(firstEnd)))
                    """)
            }
            let renewalEnd = firstEnd + 30 * 86_400
            let renewal = Self.subscriptionPayment(
                updateID: 900, charge: "ch_renewal", payload: oldPayload, expiresAt: renewalEnd, first: false)
            #expect(try await app.postUpdate(renewal).status == .ok)
            #expect(try await app.count("SELECT count(*) FROM payment_events WHERE event_id = 'ch_renewal' AND status = 'processed'") == 1)
            #expect(
                try await app.count(
                    """
                    SELECT count(*) FROM user_entitlements
                    WHERE status = 'active' AND expires_at = to_timestamp(\(renewalEnd))
                    """) == 1)
            #expect(
                try await app.count(
                    "SELECT count(*) FROM entitlement_grants WHERE payment_key = 'stars:ch_renewal' AND subscription_ref = 'ch_first'")
                    == 1)
            // A second delivery of the renewal grants nothing more.
            #expect(try await app.postUpdate(renewal).status == .ok)
            #expect(try await app.count("SELECT count(*) FROM entitlement_grants") == 1)
        }
    }

    @Test func aFirstSubscriptionPaymentRecordsTheSubscriptionAndGrantsUntilItsExpiration() async throws {
        try await Harness.with { app in
            let payload = try app.signer.make(plan: Harness.plan, telegramUserID: Updates.buyer)
            let end = Updates.messageDate + 30 * 86_400
            #expect(
                try await app.postUpdate(
                    Self.subscriptionPayment(updateID: 901, charge: "ch_sub1", payload: payload, expiresAt: end, first: true)
                ).status == .ok)
            #expect(try await app.count("SELECT count(*) FROM stars_subscriptions WHERE first_charge_id = 'ch_sub1'") == 1)
            #expect(
                try await app.count("SELECT count(*) FROM user_entitlements WHERE expires_at = to_timestamp(\(end))") == 1)
        }
    }

    @Test func aDeadStarsPaymentIsAppliedOnceWhenAnOperatorRetriesItAfterTheFix() async throws {
        try await Harness.with { app in
            // Paid for a plan the catalog did not have yet: kept as dead, nothing granted.
            let payload = try app.signer.make(plan: "late_plan", telegramUserID: Updates.buyer)
            #expect(
                try await app.postUpdate(Updates.successfulPayment(updateID: 910, charge: "ch_late", payload: payload))
                    .status == .ok)
            let id = try await app.count("SELECT id::int FROM payment_events WHERE event_id = 'ch_late' AND status = 'dead'")
            #expect(id > 0)
            #expect(try await app.count("SELECT count(*) FROM entitlement_grants") == 0)
            // Retrying before the fix fails again and says so.
            let early = try await app.admin(.post, "/admin/v1/payment-events/\(id)/retry")
            #expect(early.status == .ok)
            #expect(early.json?["outcome"] as? String == "failed")
            // The operator adds the plan, then retries: applied once.
            try await app.pool.withConnection { connection in
                try await connection.execute(
                    "INSERT INTO plans (code, name, period_days, stars_price, recurring) VALUES ('late_plan', 'Late', 7, 50, false)")
            }
            let retried = try await app.admin(.post, "/admin/v1/payment-events/\(id)/retry")
            #expect(retried.status == .ok)
            #expect(retried.json?["outcome"] as? String == "processed")
            #expect(try await app.count("SELECT count(*) FROM entitlement_grants WHERE payment_key = 'stars:ch_late'") == 1)
            #expect(try await app.count("SELECT count(*) FROM user_entitlements WHERE plan = 'late_plan' AND status = 'active'") == 1)
            #expect(try await app.count("SELECT count(*) FROM payment_events WHERE id = \(id) AND status = 'processed'") == 1)
            // Once processed it is no longer retryable.
            #expect(try await app.admin(.post, "/admin/v1/payment-events/\(id)/retry").status == .conflict)
        }
    }

    @Test func anAdminGrantWithTheSameIdempotencyKeyIsTheSameGrant() async throws {
        try await Harness.with { app in
            guard let name = HTTPField.Name("Idempotency-Key") else { return }
            func grant(days: Int, key: String) async throws -> TestResponse {
                try await app.client.execute(
                    uri: "/admin/v1/entitlements", method: .post,
                    headers: [.authorization: "Bearer \(Harness.adminToken)", .contentType: "application/json", name: key],
                    body: ByteBuffer(string: #"{"telegram_id":777,"plan":"boost_week","days":\#(days)}"#))
            }
            let first = try await grant(days: 5, key: "grant-777-a")
            let again = try await grant(days: 5, key: "grant-777-a")
            #expect(first.status == .ok)
            #expect(again.status == .ok)
            #expect(first.json?["changed"] as? Bool == true)
            #expect(again.json?["changed"] as? Bool == false)
            #expect(first.json?["expires_at"] as? String == again.json?["expires_at"] as? String)
            #expect(try await app.count("SELECT count(*) FROM entitlement_grants") == 1)
            #expect(try await grant(days: 9, key: "grant-777-a").status == .unprocessableContent)
            #expect(try await grant(days: 5, key: "grant-777-b").json?["changed"] as? Bool == true)
            #expect(try await app.count("SELECT count(*) FROM entitlement_grants") == 2)
        }
    }
}

/// Rule 6, through the Mini App checkout.
@Suite struct OneSubscriptionPerPlanTests {
    @Test func rule6ASecondStripeSubscriptionToAHeldPlanIs409AndCallsNobody() async throws {
        try await MiniAppAppHarness.with { harness in
            let user = try await harness.signIn(telegramID: 6_060)
            try await harness.pool.withConnection { connection in
                try await connection.execute(
                    """
                    INSERT INTO stripe_subscriptions (subscription_id, user_id, customer_id, plan, status, last_event_created)
                    VALUES ('sub_held', \(user.userID), 'cus_held', 'premium_monthly', 'active', now())
                    """)
                _ = try await GrantStore.grant(
                    connection,
                    NewGrant(
                        userID: user.userID, plan: "premium_monthly", source: .stripe, paymentKey: "stripe:invoice:in_held",
                        kind: .period(start: Date().addingTimeInterval(-86_400), end: Date().addingTimeInterval(29 * 86_400)),
                        purchasedAt: Date().addingTimeInterval(-86_400), subscriptionRef: "sub_held"),
                    cause: ChangeCause(actor: .stripe, reason: "test"))
            }
            let response = try await harness.checkout(user.token, plan: "premium_monthly", provider: "stripe", key: "k-409")
            #expect(response.status == .conflict)
            #expect(response.headers[.contentType] == "application/problem+json")
            #expect(harness.stripe.requests(path: "/v1/checkout/sessions").isEmpty)
            // Stars is another provider: allowed.
            let stars = try await harness.checkout(user.token, plan: "premium_monthly", provider: "telegram_stars", key: "k-stars")
            #expect(stars.status == .ok)
        }
    }
}
