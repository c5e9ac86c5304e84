import Billing
import Foundation
import PGClient
import TestSupport
import Testing

@Suite struct PaymentLedgerTests {
    @Test func fiftyConcurrentClaimsOfOneEventYieldOneRowAndOneEffect() async throws {
        try await TestDatabase.with(poolSize: 10) { _, pool in
            try await BillingFixtures.plan(pool)
            let userID = try await BillingFixtures.user(pool)
            let winners = try await withThrowingTaskGroup(of: Bool.self) { group in
                for _ in 0..<50 {
                    group.addTask {
                        try await pool.transaction { tx in
                            guard
                                let eventRow = try await PaymentLedger.claim(
                                    tx, provider: .telegramStars, eventID: "charge_1", eventType: "successful_payment",
                                    payload: PGRawJSON("{\"a\":1}"))
                            else { return false }
                            try await GrantStore.grant(
                                tx,
                                NewGrant(
                                    userID: userID, plan: "premium_monthly", source: .telegramStars,
                                    paymentKey: "stars:charge_1", kind: .duration(seconds: 30 * 86_400),
                                    purchasedAt: Date()),
                                cause: ChangeCause(actor: .telegramStars, reason: "paid", paymentEventID: eventRow))
                            return true
                        }
                    }
                }
                return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
            }
            #expect(winners == 1)
            #expect(try await BillingFixtures.count(pool, "SELECT count(*) FROM payment_events") == 1)
            #expect(try await BillingFixtures.count(pool, "SELECT count(*) FROM entitlement_changes") == 1)
        }
    }

    @Test func aRolledBackClaimLeavesNothingAndFailureIsRecorded() async throws {
        try await TestDatabase.with { _, pool in
            struct Boom: Error {}
            await #expect(throws: Boom.self) {
                try await pool.transaction { tx in
                    _ = try await PaymentLedger.claim(
                        tx, provider: .stripe, eventID: "evt_1", eventType: "invoice.paid", payload: PGRawJSON("{}"))
                    throw Boom()
                }
            }
            #expect(try await BillingFixtures.count(pool, "SELECT count(*) FROM payment_events") == 0)
            let id = try await pool.withConnection { connection in
                try await PaymentLedger.recordFailure(
                    connection, provider: .stripe, eventID: "evt_1", eventType: "invoice.paid", payload: PGRawJSON("{}"),
                    eventCreated: nil, error: "boom", retryIn: .seconds(30))
            }
            #expect(id != nil)
            let events = try await pool.withConnection { try await PaymentLedger.list($0, status: .failed, provider: .stripe, limit: 10) }
            #expect(events.count == 1)
            #expect(events.first?.lastError == "boom")
            #expect(events.first?.nextAttemptAt != nil)
        }
    }

    @Test func aFailureNeverDowngradesAProcessedEvent() async throws {
        try await TestDatabase.with { _, pool in
            try await pool.transaction { tx in
                _ = try await PaymentLedger.claim(
                    tx, provider: .stripe, eventID: "evt_2", eventType: "invoice.paid", payload: PGRawJSON("{}"))
            }
            let id = try await pool.withConnection { connection in
                try await PaymentLedger.recordFailure(
                    connection, provider: .stripe, eventID: "evt_2", eventType: "invoice.paid", payload: PGRawJSON("{}"),
                    eventCreated: nil, error: "late failure", retryIn: .seconds(1))
            }
            #expect(id == nil)
            let events = try await pool.withConnection { try await PaymentLedger.list($0, status: nil, provider: nil, limit: 10) }
            #expect(events.map(\.status) == [.processed])
        }
    }
}
