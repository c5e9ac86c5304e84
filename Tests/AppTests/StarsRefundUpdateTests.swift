import Foundation
import HTTPTypes
import HummingbirdTesting
import PGClient
import Telegram
import TestSupport
import Testing

@testable import App

/// A `refunded_payment` update (Telegram refunded a Stars subscription charge) also ends the subscription's
/// renewal, exactly like an operator's refund: one `editUserStarSubscription` with `is_canceled: true`.
@Suite struct StarsRefundUpdateTests {
    typealias Harness = TelegramAppHarness
    typealias Updates = TelegramUpdates

    @Test func aRefundedSubscriptionChargeCancelsTheRenewalOnce() async throws {
        try await Harness.with { app in
            let end = Updates.messageDate + 30 * 86_400
            let payload = try await StarsSubscriptionTests.subscribe(app, end: end)
            let refund = Updates.refundedPayment(updateID: 500, charge: "ch_first", payload: payload)
            #expect(try await app.postUpdate(refund).status == .ok)
            #expect(try await app.postUpdate(refund).status == .ok)  // the same update redelivered
            // Another update reporting the same refund (or a later operator refund) finds the renewal canceled.
            #expect(
                try await app.postUpdate(Updates.refundedPayment(updateID: 501, charge: "ch_first", payload: payload))
                    .status == .ok)
            let edits = app.fake.calls("editUserStarSubscription")
            #expect(edits.count == 1)
            #expect(edits.first?.body["user_id"]?.int == Updates.buyer)
            #expect(edits.first?.body["telegram_payment_charge_id"]?.string == "ch_first")
            #expect(edits.first?.body["is_canceled"]?.bool == true)
            #expect(try await app.count("SELECT count(*) FROM stars_subscriptions WHERE canceled") == 1)
            #expect(try await app.count("SELECT count(*) FROM entitlement_grants WHERE state = 'refunded'") == 1)
        }
    }

    @Test func aRefundedOneTimePaymentCallsNothing() async throws {
        try await Harness.with { app in
            try await app.pay(charge: "ch_once", updateID: 600)
            #expect(try await app.postUpdate(Updates.refundedPayment(updateID: 601, charge: "ch_once")).status == .ok)
            #expect(app.fake.callCount("editUserStarSubscription") == 0)
            #expect(try await app.count("SELECT count(*) FROM entitlement_grants WHERE state = 'refunded'") == 1)
        }
    }
}
