import Billing
import Foundation
import Logging
import MetricsTestKit
import PGClient
import TestSupport
import Testing

@Suite struct StripeRetryWorkerTests {
    typealias S = StripeProcessing

    static func worker(_ processor: StripeWebhookProcessor) -> StripeRetryWorker {
        var logger = Logger(label: "stripe-retry-test")
        logger.logLevel = .critical
        return StripeRetryWorker(processor: processor, interval: .milliseconds(10), logger: logger)
    }

    /// An `invoice.paid` for `customer` without our metadata: it fails until the customer is linked.
    static func unlinkedInvoicePaid(customer: String, end: Int64) -> Data {
        FakeStripe.invoicePaid(customer: customer, userID: nil, plan: nil, periodStart: S.now, periodEnd: end)
    }

    @Test func failedEventIsRetriedToProcessedOnceTheCustomerIsLinked() async throws {
        try await TestDatabase.with(poolSize: 4) { _, pool in
            try await S.plans(pool)
            let user = try await BillingFixtures.user(pool)
            let processor = S.processor(pool)
            let customer = FakeStripe.newID("cus")
            let eventID = FakeStripe.newID("evt")
            let end = S.now + S.days(30)
            let body = FakeStripe.invoicePaid(
                eventID: eventID, customer: customer, userID: nil, plan: nil, periodStart: S.now, periodEnd: end)
            #expect(try await S.receive(processor, body) == .failed)
            let failed = try #require(try await S.ledger(pool, eventID: eventID))
            #expect(failed.status == .failed)
            #expect(failed.attempts == 1)
            #expect(failed.lastError?.contains("names no user") == true)
            #expect(failed.nextAttemptAt != nil)
            #expect(try await S.entitlement(pool, user: user) == nil)

            try await S.link(pool, user: user, customer: customer)
            try await Task.sleep(for: .milliseconds(20))
            await Self.worker(processor).drain()
            let done = try #require(try await S.ledger(pool, eventID: eventID))
            #expect(done.status == .processed)
            #expect(done.lastError == nil)
            #expect(done.nextAttemptAt == nil)
            let entitlement = try #require(try await S.entitlement(pool, user: user))
            #expect(entitlement.status == .active)
            #expect(Int64(entitlement.expiresAt.timeIntervalSince1970.rounded()) == end)
            #expect(try await BillingFixtures.count(pool, "SELECT count(*) FROM entitlement_changes") == 1)
            // Nothing left to do: another drain and a retry by id change nothing.
            await Self.worker(processor).drain()
            #expect(try await processor.retry(id: done.id) == nil)
            #expect(try await BillingFixtures.count(pool, "SELECT count(*) FROM entitlement_changes") == 1)
        }
    }

    @Test func repeatedFailuresGoDeadAfterMaxAttempts() async throws {
        try await TestDatabase.with(poolSize: 4) { _, pool in
            try await S.plans(pool)
            let processor = S.processor(pool, maxAttempts: 3)
            let eventID = FakeStripe.newID("evt")
            let body = FakeStripe.invoicePaid(
                eventID: eventID, customer: FakeStripe.newID("cus"), userID: nil, plan: nil, periodStart: S.now,
                periodEnd: S.now + S.days(30))
            let metrics = TestMetrics()
            try await DeadPaymentEventsGauge(pool: pool, metricsFactory: metrics).refresh()
            #expect(try metrics.expectGauge("payment_events_dead", [("provider", "stripe")]).lastValue == 0)
            #expect(try await S.receive(processor, body) == .failed)
            let worker = StripeRetryWorker(
                processor: processor, interval: .milliseconds(10), logger: Logger(label: "t"), metricsFactory: metrics)
            let deadline = ContinuousClock.now + .seconds(20)
            var status = PaymentEventStatus.failed
            while status == .failed, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(20))
                await worker.drain()
                status = try #require(try await S.ledger(pool, eventID: eventID)).status
            }
            let dead = try #require(try await S.ledger(pool, eventID: eventID))
            #expect(dead.status == .dead)
            #expect(dead.attempts == 3)
            #expect(dead.lastError != nil)
            // The worker leaves dead events alone.
            try await Task.sleep(for: .milliseconds(20))
            await worker.round()
            #expect(try await S.ledger(pool, eventID: eventID)?.attempts == 3)
            // ... and counts them for the "dead events > 0" alert.
            #expect(try metrics.expectGauge("payment_events_dead", [("provider", "stripe")]).lastValue == 1)
            #expect(try metrics.expectGauge("payment_events_dead", [("provider", "telegram_stars")]).lastValue == 0)
        }
    }

    @Test func twoWorkersDrainingAtOnceNeverProcessAnEventTwice() async throws {
        try await TestDatabase.with(poolSize: 8) { _, pool in
            try await S.plans(pool)
            let processor = S.processor(pool, maxAttempts: 8)
            var users: [Int64] = []
            var customers: [String] = []
            for index in 0..<20 {
                users.append(try await BillingFixtures.user(pool, telegramID: 5000 + Int64(index)))
                customers.append(FakeStripe.newID("cus"))
            }
            for customer in customers {
                #expect(
                    try await S.receive(processor, Self.unlinkedInvoicePaid(customer: customer, end: S.now + S.days(30)))
                        == .failed)
            }
            for (user, customer) in zip(users, customers) { try await S.link(pool, user: user, customer: customer) }
            try await Task.sleep(for: .milliseconds(20))
            let first = Self.worker(processor)
            let second = Self.worker(S.processor(pool, maxAttempts: 8))
            async let a: Void = first.drain()
            async let b: Void = second.drain()
            _ = await (a, b)
            #expect(try await BillingFixtures.count(pool, "SELECT count(*) FROM payment_events WHERE status = 'processed'") == 20)
            #expect(try await BillingFixtures.count(pool, "SELECT count(*) FROM entitlement_changes") == 20)
            #expect(
                try await BillingFixtures.count(pool, "SELECT count(DISTINCT payment_event_id) FROM entitlement_changes") == 20)
            #expect(try await BillingFixtures.count(pool, "SELECT count(*) FROM payment_events WHERE attempts <> 2") == 0)
        }
    }

    @Test func reprocessedPaymentFailureQueuesOneNotification() async throws {
        try await TestDatabase.with(poolSize: 4) { _, pool in
            try await S.plans(pool)
            let user = try await BillingFixtures.user(pool)
            let processor = S.processor(pool)
            _ = try await pool.transaction { tx in
                try await GrantStore.grant(
                    tx,
                    NewGrant(
                        userID: user, plan: S.plan, source: .stripe, paymentKey: "test:set-up",
                        kind: .period(
                            start: Date(timeIntervalSince1970: TimeInterval(S.now - S.days(20))),
                            end: Date(timeIntervalSince1970: TimeInterval(S.now))),
                        purchasedAt: Date(timeIntervalSince1970: TimeInterval(S.now - S.days(20)))),
                    cause: ChangeCause(actor: .admin, reason: "test set-up"))
            }
            let customer = FakeStripe.newID("cus")
            let eventID = FakeStripe.newID("evt")
            let body = FakeStripe.invoicePaymentFailed(
                eventID: eventID, customer: customer, userID: nil, plan: nil, periodStart: S.now,
                periodEnd: S.now + S.days(30))
            #expect(try await S.receive(processor, body) == .failed)
            #expect(try await BillingFixtures.count(pool, "SELECT count(*) FROM notification_outbox") == 0)
            // A second delivery of a stored failed event is a duplicate: the retry is ours, not Stripe's.
            #expect(try await S.receive(processor, body) == .duplicate)
            #expect(try await S.ledger(pool, eventID: eventID)?.attempts == 1)

            try await S.link(pool, user: user, customer: customer)
            let id = try #require(try await S.ledger(pool, eventID: eventID)).id
            let retried = try #require(try await processor.retry(id: id))
            #expect(retried.outcome == .processed)
            #expect(try await S.receive(processor, body) == .duplicate)
            #expect(try await processor.retry(id: id) == nil)
            await Self.worker(processor).drain()
            #expect(try await S.entitlement(pool, user: user)?.status == .pastDue)
            #expect(try await BillingFixtures.count(pool, "SELECT count(*) FROM notification_outbox WHERE user_id = \(user)") == 1)
            #expect(try await BillingFixtures.count(pool, "SELECT count(*) FROM entitlement_changes WHERE payment_event_id = \(id)") == 1)
        }
    }
}
