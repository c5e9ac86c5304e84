import Billing
import Foundation
import PGClient
import Telegram
import TestSupport
import Testing

@Suite struct StarsLedgerTests {
    static func plans(_ pool: PGPool) async throws {
        try await pool.withConnection { connection in
            try await connection.execute(
                """
                INSERT INTO plans (code, name, period_days, stripe_price_id, stars_price, recurring, active) VALUES
                ('boost_week', 'Boost', 7, NULL, 50, false, true),
                ('old_plan', 'Old', 30, NULL, 100, false, false),
                ('stripe_only', 'Stripe only', 30, 'price_x', NULL, true, true)
                """)
        }
    }

    static func payment(_ charge: String, telegramID: Int64 = 4242, amount: Int64 = 50) -> StarsPayment {
        StarsPayment(
            profile: TelegramProfile(telegramID: telegramID, username: "payer", firstName: "Pay"), chargeID: charge,
            currency: "XTR", totalAmount: amount, plan: "boost_week", subscriptionExpiration: nil,
            rawJSON: #"{"telegram_payment_charge_id":"\#(charge)"}"#)
    }

    static func count(_ pool: PGPool, _ query: PGQuery) async throws -> Int {
        try await pool.withConnection { try await $0.query(query).first?.decode(at: 0, as: Int.self) ?? -1 }
    }

    @Test func thirtyCopiesOfOnePaymentApplyOnce() async throws {
        try await TestDatabase.with(poolSize: 10) { _, pool in
            try await Self.plans(pool)
            let applied = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<30 {
                    group.addTask {
                        let outcome = try await pool.transaction { try await StarsLedger.applyPayment($0, Self.payment("ch_1")) }
                        if case .applied = outcome { return 1 }
                        return 0
                    }
                }
                return try await group.reduce(0, +)
            }
            #expect(applied == 1)
            #expect(try await Self.count(pool, "SELECT count(*) FROM payment_events WHERE provider = 'telegram_stars'") == 1)
            #expect(try await Self.count(pool, "SELECT count(*) FROM entitlement_changes") == 1)
            #expect(
                try await Self.count(pool, "SELECT count(*) FROM invoices WHERE currency = 'XTR' AND status = 'paid' AND amount = 50") == 1)
            #expect(try await Self.count(pool, "SELECT count(*) FROM users") == 1)
        }
    }

    @Test func twoChargesAtOnceExtendByTwoPeriods() async throws {
        try await TestDatabase.with(poolSize: 4) { _, pool in
            try await Self.plans(pool)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for charge in ["ch_a", "ch_b"] {
                    group.addTask { _ = try await pool.transaction { try await StarsLedger.applyPayment($0, Self.payment(charge)) } }
                }
                try await group.waitForAll()
            }
            let days = try await pool.withConnection { connection in
                try await connection.query(
                    "SELECT extract(epoch FROM expires_at - starts_at) / 86400 AS days FROM user_entitlements"
                ).first?.decode("days", as: Double.self)
            }
            #expect(abs((days ?? 0) - 14) < 0.001)
        }
    }

    @Test func refundRevokesOnceWhicheverPathComesFirst() async throws {
        try await TestDatabase.with { _, pool in
            try await Self.plans(pool)
            _ = try await pool.transaction { try await StarsLedger.applyPayment($0, Self.payment("ch_r")) }
            let claims = try await withThrowingTaskGroup(of: StarsRefundIntents.Claim.self) { group in
                for _ in 0..<10 {
                    group.addTask {
                        try await pool.transaction { try await StarsRefundIntents.claim($0, chargeID: "ch_r", requestedBy: "admin") }
                    }
                }
                return try await group.reduce(into: [StarsRefundIntents.Claim]()) { $0.append($1) }
            }
            #expect(claims.filter { if case .callProvider = $0 { true } else { false } }.count == 1)
            #expect(claims.filter { $0 == .inProgress }.count == 9)
            let admin = try await pool.transaction {
                try await StarsLedger.applyRefund($0, chargeID: "ch_r", actor: .admin, rawJSON: "{}")
            }
            guard case .applied(let change) = admin else {
                Issue.record("admin refund must apply")
                return
            }
            #expect(change.status == .revoked)
            let update = try await pool.transaction {
                try await StarsLedger.applyRefund($0, chargeID: "ch_r", actor: .telegramStars, rawJSON: "{}")
            }
            #expect(update == .duplicate)
            let again = try await pool.transaction { try await StarsRefundIntents.claim($0, chargeID: "ch_r", requestedBy: "admin") }
            #expect(again == .alreadyRefunded)
            #expect(try await Self.count(pool, "SELECT count(*) FROM entitlement_changes WHERE action = 'revoke'") == 1)
            #expect(try await Self.count(pool, "SELECT count(*) FROM invoices WHERE status = 'refunded'") == 1)
            #expect(try await Self.count(pool, "SELECT count(*) FROM stars_refunds WHERE status = 'refunded'") == 1)
        }
    }

    @Test func anIntentLeftByADeadInstanceIsTakenOverOnlyAfterItsLease() async throws {
        try await TestDatabase.with { _, pool in
            try await Self.plans(pool)
            _ = try await pool.transaction { try await StarsLedger.applyPayment($0, Self.payment("ch_s")) }
            let first = try await pool.transaction { try await StarsRefundIntents.claim($0, chargeID: "ch_s", requestedBy: "a") }
            guard case .callProvider = first else {
                Issue.record("first claim must own the call")
                return
            }
            // The owner is alive (fresh claim): nobody else may call.
            let second = try await pool.transaction { try await StarsRefundIntents.claim($0, chargeID: "ch_s", requestedBy: "b") }
            #expect(second == .inProgress)
            // The owner died mid-call long ago: its lease ran out.
            _ = try await pool.withConnection {
                try await $0.execute(
                    """
                    UPDATE stars_refunds SET claimed_at = now() - make_interval(secs => \(StarsRefundIntents.claimLease + 1))
                    WHERE telegram_payment_charge_id = 'ch_s'
                    """)
            }
            let takeovers = try await withThrowingTaskGroup(of: StarsRefundIntents.Claim.self) { group in
                for index in 0..<8 {
                    group.addTask {
                        try await pool.transaction { try await StarsRefundIntents.claim($0, chargeID: "ch_s", requestedBy: "c\(index)") }
                    }
                }
                return try await group.reduce(into: [StarsRefundIntents.Claim]()) { $0.append($1) }
            }
            #expect(takeovers.filter { if case .callProvider = $0 { true } else { false } }.count == 1)
            #expect(takeovers.filter { $0 == .inProgress }.count == 7)
        }
    }

    @Test func aRefundClosesTheIntentEvenWhenTheEntitlementWasAlreadyRevoked() async throws {
        try await TestDatabase.with { _, pool in
            try await Self.plans(pool)
            _ = try await pool.transaction { try await StarsLedger.applyPayment($0, Self.payment("ch_v")) }
            _ = try await pool.transaction { try await StarsRefundIntents.claim($0, chargeID: "ch_v", requestedBy: "admin") }
            _ = try await pool.transaction { tx in
                try await GrantStore.revokeAll(
                    tx, userID: try await UserStore.ensure(tx, telegramID: 4242), plan: Self.payment("ch_v").plan,
                    cause: ChangeCause(actor: .admin, reason: "revoked before the refund"))
            }
            let outcome = try await pool.transaction {
                try await StarsLedger.applyRefund($0, chargeID: "ch_v", actor: .telegramStars, rawJSON: "{}")
            }
            #expect(outcome == .recordedWithoutEffect)
            #expect(try await Self.count(pool, "SELECT count(*) FROM stars_refunds WHERE status = 'refunded'") == 1)
            #expect(try await Self.count(pool, "SELECT count(*) FROM invoices WHERE status = 'refunded'") == 1)
        }
    }

    @Test func aRefundOfAnUnknownChargeIsRecordedWithoutEffect() async throws {
        try await TestDatabase.with { _, pool in
            let outcome = try await pool.transaction {
                try await StarsLedger.applyRefund($0, chargeID: "nope", actor: .telegramStars, rawJSON: "{}")
            }
            #expect(outcome == .recordedWithoutEffect)
            let claim = try await pool.transaction { try await StarsRefundIntents.claim($0, chargeID: "nope", requestedBy: "admin") }
            #expect(claim == .unknownCharge)
        }
    }

    @Test func preCheckoutChecksPlanCurrencyAndAmount() async throws {
        try await TestDatabase.with { _, pool in
            try await Self.plans(pool)
            let decisions = try await pool.withConnection { connection in
                [
                    try await PreCheckoutRules.decide(connection, plan: "boost_week", currency: "XTR", totalAmount: 50),
                    try await PreCheckoutRules.decide(connection, plan: "boost_week", currency: "XTR", totalAmount: 49),
                    try await PreCheckoutRules.decide(connection, plan: "boost_week", currency: "USD", totalAmount: 50),
                    try await PreCheckoutRules.decide(connection, plan: "old_plan", currency: "XTR", totalAmount: 100),
                    try await PreCheckoutRules.decide(connection, plan: "stripe_only", currency: "XTR", totalAmount: 1),
                    try await PreCheckoutRules.decide(connection, plan: nil, currency: "XTR", totalAmount: 50),
                ]
            }
            #expect(decisions[0] == .accept)
            #expect(decisions.dropFirst().allSatisfy { !$0.ok && !($0.errorMessage ?? "").isEmpty })
            #expect(decisions[5].errorMessage == PreCheckoutRules.invalidPayloadMessage)
        }
    }

    @Test func aDuplicateUpdateIDIsRefused() async throws {
        try await TestDatabase.with { _, pool in
            let first = try await pool.transaction { try await TelegramUpdateLog.claim($0, updateID: 9, kind: "message") }
            let second = try await pool.transaction { try await TelegramUpdateLog.claim($0, updateID: 9, kind: "message") }
            #expect(first)
            #expect(!second)
        }
    }
}
