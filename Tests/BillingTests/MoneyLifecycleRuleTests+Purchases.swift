import AsyncHTTPClient
import Billing
import Foundation
import Logging
import MetricsTestKit
import PGClient
import TestSupport
import Testing

extension MoneyLifecycleRuleTests {
    @Test func rule7APurchaseCountsOnceWhicheverEventsReportIt() async throws {
        try await TestDatabase.with(poolSize: 4) { _, pool in
            try await S.plans(pool)
            let user = try await BillingFixtures.user(pool)
            let metrics = TestMetrics()
            var logger = Logger(label: "rule7")
            logger.logLevel = .critical
            let processor = StripeWebhookProcessor(pool: pool, logger: logger, metricsFactory: metrics)
            let subscription = FakeStripe.newID("sub")
            let invoice = FakeStripe.newID("in")
            _ = try await S.receive(
                processor,
                FakeStripe.checkoutSessionCompleted(
                    mode: "subscription", userID: user, plan: S.plan, customer: "cus_rules", subscription: subscription))
            for type in ["invoice.paid", "invoice.payment_succeeded", "invoice.paid"] {
                _ = try await S.receive(
                    processor,
                    Self.invoiceBody(
                        type: type, invoiceID: invoice, subscription: subscription, user: user, start: Self.now,
                        end: Self.now + S.days(30)))
            }
            #expect(try metrics.expectCounter("billing_payments_total", [("status", "success")]).totalValue == 1)
            #expect(try metrics.expectCounter("billing_payment_value_total", [("currency", "USD")]).totalValue == 999)
        }
    }

    // MARK: Delayed one-time payments

    @Test func anAsyncPaymentSucceededGrantsADelayedOneTimePaymentOnce() async throws {
        try await TestDatabase.with(poolSize: 4) { _, pool in
            try await S.plans(pool)
            let user = try await BillingFixtures.user(pool)
            let processor = S.processor(pool)
            let (session, intent) = (FakeStripe.newID("cs"), FakeStripe.newID("pi"))
            var object = FakeStripe.checkoutSessionObject(
                sessionID: session, mode: "payment", userID: user, plan: S.oneTimePlan, customer: nil,
                paymentStatus: "unpaid", paymentIntent: intent)
            object["created"] = Self.now
            #expect(
                try await S.receive(processor, FakeStripe.event(type: "checkout.session.completed", object: object))
                    == .ignored)
            #expect(try await Self.reading(pool, user: user, plan: S.oneTimePlan) == nil)
            object["payment_status"] = "paid"
            let succeeded = FakeStripe.event(type: "checkout.session.async_payment_succeeded", object: object)
            #expect(try await S.receive(processor, succeeded) == .processed)
            #expect(try await S.receive(processor, succeeded) == .duplicate)
            #expect(
                try await S.receive(processor, FakeStripe.event(type: "checkout.session.async_payment_succeeded", object: object))
                    == .ignored)
            #expect(try await Self.reading(pool, user: user, plan: S.oneTimePlan)?.1 == Self.now + S.days(Int64(S.oneTimeDays)))
        }
    }

    // MARK: Rule 8: past due

    @Test func rule8AFailedRenewalReadsPastDueForTheGraceThenAPaidInvoiceContinues() async throws {
        try await TestDatabase.with(poolSize: 4) { _, pool in
            try await S.plans(pool)
            let user = try await BillingFixtures.user(pool)
            let processor = S.processor(pool)
            let subscription = FakeStripe.newID("sub")
            let paidEnd = Self.now + S.days(1)
            _ = try await S.receive(
                processor,
                Self.invoiceBody(
                    invoiceID: FakeStripe.newID("in"), subscription: subscription, user: user, start: paidEnd - S.days(30), end: paidEnd))
            let renewal = FakeStripe.newID("in")
            _ = try await S.receive(
                processor,
                Self.invoiceBody(
                    type: "invoice.payment_failed", invoiceID: renewal, subscription: subscription, user: user,
                    start: paidEnd, end: paidEnd + S.days(30), status: "open"))
            #expect(try await Self.reading(pool, user: user)?.0 == "past_due")
            #expect(try await Self.reading(pool, user: user)?.1 == paidEnd + S.days(3))
            _ = try await S.receive(
                processor,
                Self.invoiceBody(invoiceID: renewal, subscription: subscription, user: user, start: paidEnd, end: paidEnd + S.days(30)))
            #expect(try await Self.reading(pool, user: user)?.0 == "active")
            #expect(try await Self.reading(pool, user: user)?.1 == paidEnd + S.days(30))
        }
    }

    // MARK: Rule 2: ending one payment ends only what it bought

    @Test func rule2ADeletedStripeSubscriptionLeavesTheDaysAnotherPaymentBought() async throws {
        try await TestDatabase.with(poolSize: 4) { _, pool in
            try await S.plans(pool)
            let user = try await BillingFixtures.user(pool)
            let processor = S.processor(pool)
            let subscription = FakeStripe.newID("sub")
            _ = try await S.receive(
                processor,
                Self.invoiceBody(
                    invoiceID: FakeStripe.newID("in"), subscription: subscription, user: user, start: Self.now - S.days(1),
                    end: Self.now + S.days(29)))
            // 30 more days of the same plan, bought another way (Stars, an operator): a duration grant.
            let bought = Self.now
            _ = try await pool.transaction { tx in
                try await GrantStore.grant(
                    tx,
                    NewGrant(
                        userID: user, plan: S.plan, source: .telegramStars, paymentKey: "stars:ch_other",
                        kind: .duration(seconds: S.days(30)), purchasedAt: Date(timeIntervalSince1970: TimeInterval(bought))),
                    cause: ChangeCause(actor: .telegramStars, reason: "Stars payment"))
            }
            #expect(try await Self.reading(pool, user: user)?.1 == Self.now + S.days(59))
            let deletedAt = Self.now
            _ = try await S.receive(
                processor,
                FakeStripe.subscriptionDeleted(
                    created: deletedAt, subscriptionID: subscription, customer: "cus_rules", userID: user, plan: nil,
                    currentPeriodEnd: Self.now + S.days(29)))
            // The Stripe days end at the deletion; the Stars 30 days move up to start there (never before purchase).
            let reading = try await Self.reading(pool, user: user)
            #expect(reading?.0 == "active")
            #expect(reading?.1 == max(deletedAt, bought) + S.days(30))
        }
    }
}
