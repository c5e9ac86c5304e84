import Foundation
import HTTPTypes
import HummingbirdTesting
import PGClient
import Telegram
import TestSupport
import Testing

@testable import App

/// Stars subscriptions end to end (issue #19): renewals grant once under concurrent delivery, and an operator's
/// refund of a subscription payment also cancels its renewal.
@Suite struct StarsSubscriptionTests {
    typealias Harness = TelegramAppHarness
    typealias Updates = TelegramUpdates

    /// Records the subscription through its first payment (`ch_first`), ending at `end`.
    static func subscribe(_ app: Harness, end: Int64) async throws -> String {
        let payload = try app.signer.make(plan: Harness.plan, telegramUserID: Updates.buyer)
        let first = MoneyLifecycleHTTPTests.subscriptionPayment(
            updateID: 100, charge: "ch_first", payload: payload, expiresAt: end, first: true)
        #expect(try await app.postUpdate(first).status == .ok)
        #expect(try await app.count("SELECT count(*) FROM stars_subscriptions WHERE first_charge_id = 'ch_first'") == 1)
        return payload
    }

    @Test func thirtyConcurrentCopiesOfARenewalGrantOnce() async throws {
        try await Harness.with(poolSize: 12) { app in
            let firstEnd = Updates.messageDate + 30 * 86_400
            let payload = try await Self.subscribe(app, end: firstEnd)
            let renewalEnd = firstEnd + 30 * 86_400
            // The same renewal, delivered 30 times at once (as redeliveries under other update ids, and twice under
            // the same one).
            let statuses = try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                for copy in 0..<30 {
                    group.addTask {
                        let update = MoneyLifecycleHTTPTests.subscriptionPayment(
                            updateID: 200 + Int64(copy % 29), charge: "ch_renewal", payload: payload,
                            expiresAt: renewalEnd, first: false)
                        return try await app.postUpdate(update).status
                    }
                }
                return try await group.reduce(into: [HTTPResponse.Status]()) { $0.append($1) }
            }
            #expect(statuses.allSatisfy { $0 == .ok })
            #expect(try await app.count("SELECT count(*) FROM entitlement_grants WHERE payment_key = 'stars:ch_renewal'") == 1)
            #expect(try await app.count("SELECT count(*) FROM entitlement_grants") == 2)
            #expect(try await app.count("SELECT count(*) FROM payment_events WHERE event_id = 'ch_renewal'") == 1)
            #expect(try await app.count("SELECT count(*) FROM invoices WHERE provider_invoice_id = 'ch_renewal'") == 1)
            #expect(
                try await app.count(
                    "SELECT count(*) FROM user_entitlements WHERE expires_at = to_timestamp(\(renewalEnd))") == 1)
            #expect(
                try await app.count(
                    "SELECT count(*) FROM stars_subscriptions WHERE expires_at = to_timestamp(\(renewalEnd))") == 1)
        }
    }

    @Test func refundingASubscriptionPaymentCancelsItsRenewal() async throws {
        try await Harness.with { app in
            let firstEnd = Updates.messageDate + 30 * 86_400
            let payload = try await Self.subscribe(app, end: firstEnd)
            let renewal = MoneyLifecycleHTTPTests.subscriptionPayment(
                updateID: 300, charge: "ch_renewal", payload: payload, expiresAt: firstEnd + 30 * 86_400, first: false)
            #expect(try await app.postUpdate(renewal).status == .ok)

            // Refunding the renewal cancels the subscription through its first charge.
            let refunded = try await app.refund("ch_renewal")
            #expect(refunded.status == .ok)
            #expect(refunded.json?["renewal_canceled"] as? Bool == true)
            let edits = app.fake.calls("editUserStarSubscription")
            #expect(edits.count == 1)
            #expect(edits.first?.body["user_id"]?.int == Updates.buyer)
            #expect(edits.first?.body["telegram_payment_charge_id"]?.string == "ch_first")
            #expect(edits.first?.body["is_canceled"]?.bool == true)
            #expect(try await app.count("SELECT count(*) FROM stars_subscriptions WHERE canceled") == 1)

            // Refunding the first payment too: the renewal is already canceled, no second call.
            let again = try await app.refund("ch_first")
            #expect(again.status == .ok)
            #expect(again.json?["renewal_canceled"] as? Bool == true)
            #expect(app.fake.callCount("editUserStarSubscription") == 1)
        }
    }

    @Test func aFailedCancellationIsReportedAndARepeatedRefundRequestRetriesIt() async throws {
        try await Harness.with { app in
            _ = try await Self.subscribe(app, end: Updates.messageDate + 30 * 86_400)
            app.fake.inject(.serverError(status: 500), method: "editUserStarSubscription", times: 10)
            let refunded = try await app.refund("ch_first")
            #expect(refunded.status == .ok)
            #expect(refunded.json?["renewal_canceled"] as? Bool == false)
            #expect(try await app.count("SELECT count(*) FROM stars_subscriptions WHERE canceled") == 0)
            app.fake.reset()
            let again = try await app.refund("ch_first")
            #expect(again.status == .ok)
            #expect(again.json?["already"] as? Bool == true)
            #expect(again.json?["renewal_canceled"] as? Bool == true)
            #expect(try await app.count("SELECT count(*) FROM stars_subscriptions WHERE canceled") == 1)
        }
    }

    @Test func refundingAOneTimePaymentCallsNoSubscriptionMethod() async throws {
        try await Harness.with { app in
            try await app.pay(charge: "ch_once", updateID: 400)
            let refunded = try await app.refund("ch_once")
            #expect(refunded.status == .ok)
            #expect(refunded.json?["renewal_canceled"] == nil)
            #expect(app.fake.callCount("editUserStarSubscription") == 0)
        }
    }
}
