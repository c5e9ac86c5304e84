import Billing
import Foundation
import PGClient
import TestSupport
import Testing

/// What the hot path costs in round trips (counted by the driver, not timed), and the lock order that keeps a
/// reversal and a recompute of the same plan from deadlocking.
@Suite struct RoundTripAndLockOrderTests {
    typealias S = StripeProcessing

    /// The round trips the one pooled connection made so far.
    private static func roundTrips(_ pool: PGPool) async throws -> Int {
        try await pool.withConnection { $0.roundTrips }
    }

    @Test func aNewInvoicePaidCostsThreeRoundTripsAndItsRedeliveryOne() async throws {
        try await TestDatabase.with(poolSize: 1) { _, pool in
            try await S.plans(pool)
            let user = try await BillingFixtures.user(pool)
            let processor = S.processor(pool)
            let body = FakeStripe.invoicePaid(userID: user, plan: nil, periodStart: S.now, periodEnd: S.now + S.days(30))

            let before = try await Self.roundTrips(pool)
            #expect(try await S.receive(processor, body) == .processed)
            let afterNew = try await Self.roundTrips(pool)
            #expect(try await S.receive(processor, body) == .duplicate)
            let afterDuplicate = try await Self.roundTrips(pool)

            // [BEGIN, claim, plan] [lock, invoice, grant, recompute] [notification, COMMIT]
            #expect(afterNew - before == 3)
            // [BEGIN, claim, plan] and a ROLLBACK nobody waits for.
            #expect(afterDuplicate - afterNew == 1)
            #expect(try await S.entitlement(pool, user: user)?.status == .active)
            #expect(try await BillingFixtures.count(pool, "SELECT count(*) FROM entitlement_grants") == 1)
            #expect(try await BillingFixtures.count(pool, "SELECT count(*) FROM notification_outbox") == 1)
        }
    }

    @Test func theSecondEventOfOneInvoiceMakesNoGrantAndNoAuditRow() async throws {
        try await TestDatabase.with(poolSize: 2) { _, pool in
            try await S.plans(pool)
            let user = try await BillingFixtures.user(pool)
            let processor = S.processor(pool)
            let invoice = FakeStripe.newID("in")
            let paid = FakeStripe.invoicePaid(
                invoiceID: invoice, userID: user, plan: S.plan, periodStart: S.now, periodEnd: S.now + S.days(30))
            let succeeded = try JSONSerialization.data(
                withJSONObject: {
                    var object = try JSONSerialization.jsonObject(with: paid) as? [String: Any] ?? [:]
                    object["id"] = FakeStripe.newID("evt")
                    object["type"] = "invoice.payment_succeeded"
                    return object
                }())
            #expect(try await S.receive(processor, paid) == .processed)
            #expect(try await S.receive(processor, succeeded) == .ignored)
            #expect(try await BillingFixtures.count(pool, "SELECT count(*) FROM entitlement_grants") == 1)
            #expect(try await BillingFixtures.count(pool, "SELECT count(*) FROM entitlement_changes") == 1)
        }
    }

    /// A refund of one payment and an earlier-dated payment of the same plan, at once: the payment's recompute moves
    /// the refunded grant's days (it now starts after the new one), the refund changes its state. Both take the
    /// read-model row first, so neither waits for the other in a cycle. Transactions here are not retried, so a
    /// deadlock (40P01) would fail the test.
    @Test func aRefundBesideAnEarlierDatedPaymentOfThePlanNeverDeadlocks() async throws {
        try await TestDatabase.with(poolSize: 8) { _, pool in
            try await BillingFixtures.plan(pool)
            let user = try await BillingFixtures.user(pool)
            let start = Date().addingTimeInterval(-86_400)
            var deadlocks = 0
            for round in 0..<40 {
                let later = "ref:later:\(round)"
                _ = try await pool.transaction { tx in
                    try await GrantStore.grant(
                        tx, Self.grant(user, key: "later:\(round)", at: start.addingTimeInterval(Double(round) + 0.5), refs: [later]),
                        cause: ChangeCause(actor: .admin, reason: "setup"))
                }
                let outcomes = try await withThrowingTaskGroup(of: Bool.self) { group in
                    group.addTask {
                        try await Self.deadlocked(pool) { tx in
                            try await GrantStore.grant(
                                tx, Self.grant(user, key: "earlier:\(round)", at: start.addingTimeInterval(Double(round)), refs: []),
                                cause: ChangeCause(actor: .admin, reason: "payment"))
                        }
                    }
                    group.addTask {
                        try await Self.deadlocked(pool) { tx in
                            try await GrantStore.refund(tx, refs: [later], cause: ChangeCause(actor: .admin, reason: "refund"))
                        }
                    }
                    return try await group.reduce(into: [Bool]()) { $0.append($1) }
                }
                deadlocks += outcomes.filter { $0 }.count
            }
            #expect(deadlocks == 0)
            #expect(try await BillingFixtures.count(pool, "SELECT count(*) FROM entitlement_grants WHERE state = 'refunded'") == 40)
            #expect(try await BillingFixtures.count(pool, "SELECT count(*) FROM entitlement_grants WHERE state = 'active'") == 40)
        }
    }

    private static func grant(_ user: Int64, key: String, at: Date, refs: [String]) -> NewGrant {
        NewGrant(
            userID: user, plan: "premium_monthly", source: .admin, paymentKey: "test:" + key,
            kind: .duration(seconds: 7 * 86_400), purchasedAt: at, refs: refs)
    }

    /// Runs `body` in one transaction without the pool's retries; true when it failed with a deadlock (any other
    /// error is thrown).
    private static func deadlocked(
        _ pool: PGPool, _ body: @escaping @Sendable (PGConnection) async throws -> Void
    ) async throws -> Bool {
        do {
            try await pool.withConnection { connection in try await connection.inTransaction { try await body($0) } }
            return false
        } catch let error as PGError where error.sqlState == .deadlockDetected {
            return true
        }
    }
}
