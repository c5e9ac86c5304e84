import Billing
import Foundation
import PGClient
import TestSupport
import Testing

@Suite struct GrantStoreTests {
    /// A duration grant of `days` bought now, under its own payment key.
    @discardableResult
    static func durationGrant(
        _ tx: PGConnection, userID: Int64, days: Int, source: EntitlementSource = .admin, key: String = UUID().uuidString
    ) async throws -> EntitlementState? {
        try await GrantStore.grant(
            tx,
            NewGrant(
                userID: userID, plan: "premium_monthly", source: source, paymentKey: "test:" + key,
                kind: .duration(seconds: Int64(days) * 86_400), purchasedAt: Date()),
            cause: ChangeCause(actor: ChangeActor(source), reason: "test grant"))
    }

    @Test func twentyConcurrentDurationGrantsAddUpExactly() async throws {
        try await TestDatabase.with(poolSize: 8) { _, pool in
            try await BillingFixtures.plan(pool)
            let userID = try await BillingFixtures.user(pool)
            let before = Date()
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<20 {
                    group.addTask {
                        _ = try await pool.transaction { tx in
                            try await Self.durationGrant(tx, userID: userID, days: 3, source: .telegramStars, key: "c\(index)")
                        }
                    }
                }
                try await group.waitForAll()
            }
            let entitlement = try #require(
                try await pool.withConnection { try await EntitlementStore.find($0, userID: userID, plan: "premium_monthly") })
            let days = entitlement.expiresAt.timeIntervalSince(entitlement.startsAt) / 86_400
            #expect(abs(days - 60) < 0.01, "20 × 3 days from the first start, got \(days)")
            #expect(entitlement.startsAt >= before.addingTimeInterval(-5))
            #expect(entitlement.status == .active)
            let changes = try await BillingFixtures.count(pool, "SELECT count(*) FROM entitlement_changes WHERE user_id = \(userID)")
            #expect(changes == 20)
            let rows = try await BillingFixtures.count(pool, "SELECT count(*) FROM user_entitlements WHERE user_id = \(userID)")
            #expect(rows == 1)
        }
    }

    @Test func fiftyPeriodGrantsAtOnceEndAtTheLatestPeriodEnd() async throws {
        try await TestDatabase.with(poolSize: 8) { _, pool in
            try await BillingFixtures.plan(pool)
            let userID = try await BillingFixtures.user(pool)
            let base = Date().addingTimeInterval(86_400)
            let ends = (0..<50).map { base.addingTimeInterval(Double($0 * 3600)) }.shuffled()
            try await withThrowingTaskGroup(of: Void.self) { group in
                for end in ends {
                    group.addTask {
                        _ = try await pool.transaction { tx in
                            try await GrantStore.grant(
                                tx,
                                NewGrant(
                                    userID: userID, plan: "premium_monthly", source: .stripe,
                                    paymentKey: "test:in_\(end.timeIntervalSince1970)",
                                    kind: .period(start: base.addingTimeInterval(-86_400), end: end), purchasedAt: base),
                                cause: ChangeCause(actor: .stripe, reason: "invoice paid"))
                        }
                    }
                }
                try await group.waitForAll()
            }
            let entitlement = try #require(
                try await pool.withConnection { try await EntitlementStore.find($0, userID: userID, plan: "premium_monthly") })
            let latest = try #require(ends.max())
            #expect(abs(entitlement.expiresAt.timeIntervalSince(latest)) < 0.001)
        }
    }

    @Test func revokeIsAuditedOnceAndHidesTheEntitlement() async throws {
        try await TestDatabase.with { _, pool in
            try await BillingFixtures.plan(pool)
            let userID = try await BillingFixtures.user(pool)
            let (first, second, active) = try await pool.transaction { tx in
                try await Self.durationGrant(tx, userID: userID, days: 30)
                let first = try await GrantStore.revokeAll(
                    tx, userID: userID, plan: "premium_monthly", cause: ChangeCause(actor: .admin, reason: "refund"))
                let second = try await GrantStore.revokeAll(
                    tx, userID: userID, plan: "premium_monthly", cause: ChangeCause(actor: .admin, reason: "refund"))
                return (first, second, try await EntitlementStore.active(tx, userID: userID))
            }
            #expect(first?.status == .revoked)
            #expect(first?.changed == true)
            #expect(second == nil)
            let actions = try await BillingFixtures.count(
                pool, "SELECT count(*) FROM entitlement_changes WHERE action = 'revoke' AND before_status = 'active'")
            #expect(actions == 1)
            #expect(active.isEmpty)
            let audit = try await BillingFixtures.count(pool, "SELECT count(*) FROM entitlement_changes WHERE user_id = \(userID)")
            #expect(audit == 2)
        }
    }

    @Test func aPaymentAfterARevokeStartsFromNow() async throws {
        try await TestDatabase.with { _, pool in
            try await BillingFixtures.plan(pool)
            let userID = try await BillingFixtures.user(pool)
            let entitlement = try await pool.transaction { tx in
                try await Self.durationGrant(tx, userID: userID, days: 30)
                try await GrantStore.revokeAll(
                    tx, userID: userID, plan: "premium_monthly", cause: ChangeCause(actor: .admin, reason: "revoke"))
                try await Self.durationGrant(tx, userID: userID, days: 7, source: .telegramStars)
                return try await EntitlementStore.find(tx, userID: userID, plan: "premium_monthly")
            }
            let found = try #require(entitlement)
            let days = found.expiresAt.timeIntervalSinceNow / 86_400
            #expect(days > 6.9 && days < 7.1)
            #expect(found.status == .active)
            #expect(found.source == .telegramStars)
        }
    }

    @Test func auditRowsCannotBeRewritten() async throws {
        try await TestDatabase.with { _, pool in
            try await BillingFixtures.plan(pool)
            let userID = try await BillingFixtures.user(pool)
            try await pool.transaction { tx in
                _ = try await Self.durationGrant(tx, userID: userID, days: 1)
            }
            await #expect(throws: PGError.self) {
                try await pool.withConnection { try await $0.execute("DELETE FROM entitlement_changes") }
            }
        }
    }

    @Test func expiryIsDerivedAtReadTime() {
        let entitlement = Entitlement(
            id: 1, userID: 1, plan: "p", status: .active, source: .stripe, startsAt: Date(timeIntervalSinceNow: -100),
            expiresAt: Date(timeIntervalSinceNow: -1))
        #expect(entitlement.effectiveStatus() == .expired)
        #expect(!entitlement.isActive())
    }
}
