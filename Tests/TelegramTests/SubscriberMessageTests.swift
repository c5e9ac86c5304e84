import Billing
import Foundation
import PGClient
import Telegram
import TestSupport
import Testing

/// Messages to subscribers (issue #19): each kind is queued with the effect it is about, in the same transaction,
/// once per (event, kind), and sent after the commit as exactly one `sendMessage` with its button.
@Suite struct SubscriberMessageTests {
    typealias H = SubscriberMessageHarness

    static var now: Int64 { FakeStripe.nowSeconds() }
    static let day: Int64 = 86_400

    // MARK: Stars

    @Test func aStarsPaymentSendsOneMessageWithTheMiniAppEvenWhenRedelivered() async throws {
        try await H.with { h in
            _ = try await h.pay(h.starsPayment("ch_1"))
            _ = try await h.pay(h.starsPayment("ch_1"))  // a redelivery: a ledger duplicate
            #expect(await h.drain() == 1)
            let sent = h.delivered
            #expect(sent.count == 1)
            #expect(sent.first?.body["chat_id"]?.int == H.telegramID)
            #expect(sent.first?.webAppURL == H.miniAppURL)
            #expect(sent.first?.text.contains("Boost week") == true)
            #expect(sent.first?.text.contains("50 ⭐") == true)
            #expect(h.sentMetric(.paymentReceived, "sent") == 1)
            #expect(await h.drain() == 0)
            #expect(h.delivered.count == 1)
        }
    }

    @Test func aStarsRenewalSaysRenewed() async throws {
        try await H.with { h in
            let end = Date().addingTimeInterval(30 * 86_400)
            _ = try await h.pay(h.starsPayment("ch_first", expiration: end))
            _ = try await h.pay(h.starsPayment("ch_second", expiration: end.addingTimeInterval(30 * 86_400), firstCharge: "ch_first"))
            #expect(await h.drain() == 2)
            #expect(h.sentMetric(.paymentReceived, "sent") == 1)
            #expect(h.sentMetric(.renewalReceived, "sent") == 1)
            #expect(h.delivered.contains { $0.text.contains("renewed") && $0.webAppURL == H.miniAppURL })
        }
    }

    @Test func aStarsRefundSendsOneRefundMessageWhicheverPathsReportIt() async throws {
        try await H.with { h in
            _ = try await h.pay(h.starsPayment("ch_r"))
            await h.drain()
            for _ in 0..<3 {
                _ = try await h.pool.transaction {
                    try await StarsLedger.applyRefund($0, chargeID: "ch_r", actor: .telegramStars, rawJSON: "{}")
                }
            }
            #expect(await h.drain() == 1)
            let refund = h.delivered.last
            #expect(refund?.text.contains("refunded") == true)
            #expect(refund?.text.contains("50 ⭐") == true)
            #expect(refund?.webAppURL == H.miniAppURL)
            #expect(h.sentMetric(.refund, "sent") == 1)
        }
    }

    // MARK: Stripe

    @Test func aPaidInvoiceReportedByBothEventsSendsOneMessage() async throws {
        try await H.with { h in
            let invoice = FakeStripe.newID("in")
            for type in ["invoice.paid", "invoice.payment_succeeded", "invoice.paid"] {
                try await h.deliver(
                    FakeStripe.invoiceEvent(
                        type: type, invoiceID: invoice, subscription: "sub_1", userID: h.userID, plan: H.stripePlan,
                        periodStart: Self.now - Self.day, periodEnd: Self.now + 29 * Self.day, amount: 999))
            }
            #expect(await h.drain() == 1)
            #expect(h.delivered.count == 1)
            #expect(h.delivered.first?.text.contains("Premium, monthly") == true)
            #expect(h.delivered.first?.text.contains("9.99 USD") == true)
            #expect(h.delivered.first?.webAppURL == H.miniAppURL)
            #expect(h.sentMetric(.renewalReceived, "sent") == 1)
        }
    }

    @Test func aFailedPaymentCarriesThePortalAndADuplicateEventSendsNothingMore() async throws {
        try await H.with { h in
            let event = FakeStripe.invoicePaymentFailed(
                subscription: "sub_f", userID: h.userID, plan: H.stripePlan, periodStart: Self.now,
                periodEnd: Self.now + 30 * Self.day)
            #expect(try await h.deliver(event) == .processed)
            #expect(try await h.deliver(event) == .duplicate)
            #expect(await h.drain() == 1)
            let sent = try #require(h.delivered.first)
            #expect(h.delivered.count == 1)
            #expect(sent.buttonURL == H.portalURL)
            #expect(sent.webAppURL == nil)
            #expect(sent.text.contains("did not go through"))
            #expect(h.sentMetric(.paymentFailed, "sent") == 1)
        }
    }

    @Test func aStripeRefundSendsOneRefundMessage() async throws {
        try await H.with { h in
            let invoice = FakeStripe.newID("in")
            try await h.deliver(
                FakeStripe.invoicePaid(
                    invoiceID: invoice, subscription: "sub_r", userID: h.userID, plan: H.stripePlan,
                    periodStart: Self.now - Self.day, periodEnd: Self.now + 29 * Self.day))
            await h.drain()
            let refund = FakeStripe.chargeRefunded(invoice: invoice, userID: h.userID, plan: H.stripePlan, amount: 999)
            try await h.deliver(refund)
            try await h.deliver(refund)
            #expect(await h.drain() == 1)
            #expect(h.delivered.last?.text.contains("refunded") == true)
            #expect(h.sentMetric(.refund, "sent") == 1)
        }
    }

    @Test func aDeletedSubscriptionSendsAccessEndedOnceAlsoWhenTheExpiryScanSeesIt() async throws {
        try await H.with { h in
            try await h.deliver(
                FakeStripe.invoicePaid(
                    subscription: "sub_d", userID: h.userID, plan: H.stripePlan, periodStart: Self.now - Self.day,
                    periodEnd: Self.now + 29 * Self.day))
            let deleted = FakeStripe.subscriptionDeleted(
                subscriptionID: "sub_d", userID: h.userID, plan: H.stripePlan, currentPeriodEnd: Self.now + 29 * Self.day)
            try await h.deliver(deleted)
            try await h.deliver(deleted)
            let scanned = try await h.pool.withConnection { try await AccessExpiryNotices.enqueueDue($0) }
            #expect(scanned.ended == 0)
            await h.drain()
            #expect(h.sentMetric(.accessEnded, "sent") == 1)
            #expect(h.delivered.filter { $0.text.contains("ended on") }.count == 1)
        }
    }

    @Test func aScheduledCancellationSendsOneMessage() async throws {
        try await H.with { h in
            let end = Self.now + 20 * Self.day
            try await h.deliver(
                FakeStripe.subscriptionUpdated(
                    created: Self.now - 10, subscriptionID: "sub_c", userID: h.userID, plan: H.stripePlan,
                    currentPeriodEnd: end))
            for offset: Int64 in [0, 1] {
                try await h.deliver(
                    FakeStripe.subscriptionUpdated(
                        created: Self.now + offset, subscriptionID: "sub_c", userID: h.userID, plan: H.stripePlan,
                        currentPeriodEnd: end, cancelAtPeriodEnd: true))
            }
            await h.drain()
            #expect(h.sentMetric(.subscriptionCancelled, "sent") == 1)
            #expect(h.delivered.count == 1)
            #expect(h.delivered.first?.text.contains("will not renew") == true)
            #expect(h.delivered.first?.webAppURL == H.miniAppURL)
        }
    }

    @Test func cancellingAStarsSubscriptionInTheMiniAppSendsOneMessage() async throws {
        try await H.with { h in
            _ = try await h.pay(h.starsPayment("ch_sub", expiration: Date().addingTimeInterval(30 * 86_400)))
            await h.drain()
            let subscription = try #require(
                try await h.pool.withConnection {
                    try await RenewingSubscriptions.find($0, userID: h.userID, plan: H.starsPlan)
                }.first)
            for _ in 0..<2 {  // Cancelled twice (a repeated click): one message.
                try await h.pool.transaction { try await RenewingSubscriptions.record($0, subscription, renews: false) }
            }
            await h.drain()
            #expect(h.sentMetric(.subscriptionCancelled, "sent") == 1)
            #expect(h.delivered.last?.text.contains("Boost week subscription is cancelled") == true)
        }
    }

    @Test func trialWillEndSendsOneMessage() async throws {
        try await H.with { h in
            let trialEnd = Self.now + 3 * Self.day
            var object = FakeStripe.subscriptionObject(
                subscriptionID: "sub_t", status: "trialing", userID: h.userID, plan: H.stripePlan,
                currentPeriodEnd: trialEnd)
            object["trial_end"] = trialEnd
            for _ in 0..<2 {  // Two deliveries under different event ids (a reconciliation, say): one message.
                try await h.deliver(FakeStripe.event(type: "customer.subscription.trial_will_end", object: object))
            }
            await h.drain()
            #expect(h.sentMetric(.trialEnding, "sent") == 1)
            #expect(
                h.delivered.first?.text.contains(
                    "trial ends on \(SubscriberMessages.format(Date(timeIntervalSince1970: TimeInterval(trialEnd))))") == true)
        }
    }

    // MARK: Delivery

    @Test func aSendThatFailsWith500IsRetried() async throws {
        try await H.with { h in
            h.fake.inject(.serverError(status: 500), method: "sendMessage")
            _ = try await h.pay(h.starsPayment("ch_500"))
            #expect(await h.sender.sendDue() == 0)
            #expect(h.sentMetric(.paymentReceived, "failed") == 1)
            #expect(try await h.count("SELECT count(*) FROM notification_outbox WHERE status = 'pending' AND attempts = 1") == 1)
            #expect(await h.drain() == 1)  // retryBase zero: due again at once
            #expect(h.fake.calls("sendMessage").map(\.status) == [500, 200])
            #expect(h.sentMetric(.paymentReceived, "sent") == 1)
            #expect(try await h.count("SELECT count(*) FROM notification_outbox WHERE status = 'sent'") == 1)
        }
    }

    @Test func aUserWhoBlockedTheBotIsMarkedAndNotRetried() async throws {
        try await H.with { h in
            h.fake.inject(.apiError(code: 403, description: "Forbidden: bot was blocked by the user"), method: "sendMessage")
            _ = try await h.pay(h.starsPayment("ch_403"))
            #expect(await h.sender.sendDue() == 0)
            #expect(await h.drain() == 0)
            #expect(h.fake.callCount("sendMessage") == 1)
            #expect(h.sentMetric(.paymentReceived, "failed") == 1)
            #expect(try await h.count("SELECT count(*) FROM notification_outbox WHERE status = 'blocked'") == 1)
            #expect(try await h.count("SELECT count(*) FROM users WHERE bot_blocked_at IS NOT NULL") == 1)
        }
    }

    // MARK: Ending in 3 days

    @Test func accessEndingSoonIsQueuedOncePerGrantWhenTheScanRunsTwiceAndConcurrently() async throws {
        try await H.with(poolSize: 8) { h in
            // A one-time week bought 5 days ago: ends in 2 days and nothing renews it.
            _ = try await h.pay(h.starsPayment("ch_soon", paidAt: Date().addingTimeInterval(-5 * 86_400)))
            let reports = try await withThrowingTaskGroup(of: AccessExpiryNotices.Report.self) { group in
                for _ in 0..<6 {
                    group.addTask { try await h.pool.withConnection { try await AccessExpiryNotices.enqueueDue($0) } }
                }
                return try await group.reduce(into: [AccessExpiryNotices.Report]()) { $0.append($1) }
            }
            #expect(reports.map(\.ending).reduce(0, +) == 1)
            let again = try await h.pool.withConnection { try await AccessExpiryNotices.enqueueDue($0) }
            #expect(again.ending == 0)
            #expect(try await h.count("SELECT count(*) FROM notification_outbox WHERE kind = 'access_ending'") == 1)
            await h.drain()
            #expect(h.sentMetric(.accessEnding, "sent") == 1)
            #expect(h.delivered.filter { $0.text.contains("will not renew") && $0.webAppURL == H.miniAppURL }.count == 1)
        }
    }

    @Test func accessThatLapsedIsReportedEndedOnceByTheScan() async throws {
        try await H.with { h in
            // A one-time week bought 7.5 days ago: it ended 12 hours ago.
            _ = try await h.pay(h.starsPayment("ch_lapsed", paidAt: Date().addingTimeInterval(-7.5 * 86_400)))
            let first = try await h.pool.withConnection { try await AccessExpiryNotices.enqueueDue($0) }
            let second = try await h.pool.withConnection { try await AccessExpiryNotices.enqueueDue($0) }
            #expect(first.ended == 1)
            #expect(second.ended == 0)
            #expect(first.ending == 0)
            await h.drain()
            #expect(h.sentMetric(.accessEnded, "sent") == 1)
            #expect(h.delivered.filter { $0.text.contains("Boost week ended on") && $0.webAppURL == H.miniAppURL }.count == 1)
        }
    }

    @Test func accessThatRenewsIsNotReportedAsEnding() async throws {
        try await H.with { h in
            // A Stars subscription ending in 2 days that is not cancelled: it renews.
            _ = try await h.pay(
                h.starsPayment(
                    "ch_renews", paidAt: Date().addingTimeInterval(-28 * 86_400),
                    expiration: Date().addingTimeInterval(2 * 86_400)))
            let report = try await h.pool.withConnection { try await AccessExpiryNotices.enqueueDue($0) }
            #expect(report.ending == 0)
            // Once cancelled, it does not renew: the scan reports it.
            try await h.pool.withConnection {
                try await RenewingSubscriptions.markStarsCanceled($0, firstChargeID: "ch_renews", canceled: true)
            }
            let after = try await h.pool.withConnection { try await AccessExpiryNotices.enqueueDue($0) }
            #expect(after.ending == 1)
        }
    }
}
