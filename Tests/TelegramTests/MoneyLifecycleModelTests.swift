import Billing
import Foundation
import Logging
import PGClient
import Telegram
import TestSupport
import Testing

/// Model-based test of the money lifecycle: random customer histories (Stripe subscription invoices, renewals that
/// fail, refunds on both API shapes, disputes won and lost, deleted subscriptions, Stripe Checkout and Stars one-time
/// payments, Stars refunds, admin grants and revokes), each webhook delivered one to three times in a random order
/// through the real processors, against a real PostgreSQL. For every history the final `user_entitlements` of each
/// plan (status, `expires_at` to the second) must equal `MoneyModel`'s, and a second delivery order of the same
/// history must give the same readings.
///
/// `TELEBOT_MODEL_SEED` and `TELEBOT_MODEL_HISTORIES` (default 500) replay or widen a run; a failure names its seed
/// and history.
@Suite struct MoneyLifecycleModelTests {
    static let graceDays: Int64 = 3
    static var seed: UInt64 { ProcessInfo.processInfo.environment["TELEBOT_MODEL_SEED"].flatMap(UInt64.init) ?? 20_261_206 }
    static var histories: Int {
        ProcessInfo.processInfo.environment["TELEBOT_MODEL_HISTORIES"].flatMap(Int.init) ?? 500
    }
    /// Histories also replayed in a second delivery order.
    static let replayed = 100
    /// 2030-01-01: the rules read no clock, so any base time works; a fixed one keeps the numbers readable.
    static let base: Int64 = 1_893_456_000

    @Test func finalEntitlementsEqualTheModelForEveryDeliveryOrder() async throws {
        try await TestDatabase.with(poolSize: 10) { _, pool in
            try await pool.withConnection { connection in
                try await connection.execute(
                    """
                    INSERT INTO plans (code, name, period_days, stripe_price_id, stars_price, recurring) VALUES
                    ('pm', 'Premium', 30, 'price_pm', 250, true), ('boost', 'Boost', 7, NULL, 50, false)
                    """)
            }
            var logger = Logger(label: "model-test")
            logger.logLevel = .critical
            let processor = StripeWebhookProcessor(
                pool: pool, logger: logger, retryBase: .milliseconds(1), maxAttempts: 2,
                options: StripeHandlingOptions(pastDueGrace: .seconds(Self.graceDays * 86_400)))
            let seed = Self.seed
            let failures = try await withThrowingTaskGroup(of: [String].self) { group in
                let lanes = 8
                for lane in 0..<lanes {
                    group.addTask {
                        var failures: [String] = []
                        for index in stride(from: lane, to: Self.histories, by: lanes) {
                            failures += try await Self.check(index: index, seed: seed, pool: pool, processor: processor)
                        }
                        return failures
                    }
                }
                return try await group.reduce(into: [String]()) { $0 += $1 }
            }
            for failure in failures.prefix(5) { Issue.record(Comment(rawValue: failure)) }
            #expect(failures.isEmpty, "\(failures.count) histories differ from the model (seed \(seed))")
        }
    }

    /// Runs history `index` (and for the first `replayed`, the same history in another order under other ids).
    static func check(index: Int, seed: UInt64, pool: PGPool, processor: StripeWebhookProcessor) async throws -> [String] {
        var failures: [String] = []
        var readings: [[String: MoneyModel.Reading]] = []
        for run in 0..<(index < replayed ? 2 : 1) {
            var structure = SeededGenerator(seed: seed &+ UInt64(index) &* 0x1_0000)
            let (facts, revoke) = MoneyHistoryGenerator.history(&structure, tag: "h\(index)r\(run)", base: base)
            var order = SeededGenerator(seed: seed &+ UInt64(index) &* 0x1_0000 &+ UInt64(run) &+ 1)
            let deliveries = MoneyHistoryGenerator.deliveries(facts, &order)
            let telegramID = 7_000_000 + Int64(index) * 10 + Int64(run)
            let userID = try await pool.withConnection { connection in
                try await UserStore.upsert(connection, profile: TelegramProfile(telegramID: telegramID, username: nil, firstName: "M")).id
            }
            for delivery in deliveries {
                try await deliver(delivery, userID: userID, telegramID: telegramID, pool: pool, processor: processor)
            }
            for fact in facts where !fact.isWebhook {
                try await deliver(fact, userID: userID, telegramID: telegramID, pool: pool, processor: processor)
            }
            if revoke {
                try await pool.transaction { tx in
                    for plan in ["pm", "boost"] {
                        try await GrantStore.revokeAll(
                            tx, userID: userID, plan: plan, cause: ChangeCause(actor: .admin, reason: "model revoke"))
                    }
                }
            }
            let expected = MoneyModel.readings(
                facts, graceSeconds: graceDays * 86_400, revokedPlans: revoke ? ["pm", "boost"] : [])
            let actual = try await pool.withConnection { connection in
                try await connection.query(
                    """
                    SELECT plan, status, extract(epoch FROM expires_at)::bigint AS expires FROM user_entitlements
                    WHERE user_id = \(userID)
                    """
                ).reduce(into: [String: MoneyModel.Reading]()) { result, row in
                    result[try row.decode("plan", as: String.self)] = MoneyModel.Reading(
                        status: try row.decode("status"), expiresAt: try row.decode("expires"))
                }
            }
            if actual != expected {
                failures.append(
                    "seed \(seed) history \(index) run \(run): expected \(expected), got \(actual); facts: \(facts)")
            }
            readings.append(actual)
        }
        if readings.count == 2, readings[0] != readings[1] {
            failures.append("seed \(seed) history \(index): two delivery orders differ: \(readings[0]) vs \(readings[1])")
        }
        return failures
    }

    static func deliver(
        _ fact: MoneyFact, userID: Int64, telegramID: Int64, pool: PGPool, processor: StripeWebhookProcessor
    ) async throws {
        switch fact {
        case .starsPayment(let charge, let plan, let paidAt, _):
            let payment = StarsPayment(
                profile: TelegramProfile(telegramID: telegramID, username: nil, firstName: "M"), chargeID: charge,
                currency: "XTR", totalAmount: 50, plan: plan, subscriptionExpiration: nil,
                rawJSON: #"{"charge":"\#(charge)"}"#, paidAt: Date(timeIntervalSince1970: TimeInterval(paidAt)))
            _ = try await pool.transaction { try await StarsLedger.applyPayment($0, payment) }
        case .starsRefund(let charge):
            _ = try await pool.transaction {
                try await StarsLedger.applyRefund($0, chargeID: charge, actor: .telegramStars, rawJSON: "{}")
            }
        case .adminGrant(let key, let plan, let days, let at):
            _ = try await pool.transaction { tx in
                try await GrantStore.grant(
                    tx,
                    NewGrant(
                        userID: userID, plan: plan, source: .admin, paymentKey: "admin:" + key,
                        kind: .duration(seconds: days * 86_400), purchasedAt: Date(timeIntervalSince1970: TimeInterval(at))),
                    cause: ChangeCause(actor: .admin, reason: "model admin grant"))
            }
        default:
            guard let body = stripeBody(fact, userID: userID) else { return }
            let outcome = try await processor.receive(
                try StripeEvent(decoding: body), rawBody: String(decoding: body, as: UTF8.self))
            guard outcome != .failed else {
                throw ModelTestFailure(description: "Stripe event failed: \(String(decoding: body, as: UTF8.self))")
            }
        }
    }

    struct ModelTestFailure: Error, CustomStringConvertible {
        let description: String
    }

    /// The Stripe event a fact is delivered as. Event `created` times are unrelated to the facts' own times (the
    /// rules must not depend on them, except to order subscription states).
    static func stripeBody(_ fact: MoneyFact, userID: Int64) -> Data? {
        func ref(_ refs: [String], _ prefix: String) -> String? {
            refs.first { $0.hasPrefix(prefix) }.map { String($0.dropFirst(prefix.count)) }
        }
        switch fact {
        case .invoicePaid(let eventID, let type, let invoice):
            return FakeStripe.event(
                id: eventID, type: type, created: invoice.created + 5, object: invoiceObject(invoice, userID: userID, status: "paid"))
        case .invoiceFailed(let eventID, let invoice):
            return FakeStripe.event(
                id: eventID, type: "invoice.payment_failed", created: invoice.created + 1,
                object: invoiceObject(invoice, userID: userID, status: "open"))
        case .chargeRefunded(let eventID, let refs):
            return FakeStripe.event(
                id: eventID, type: "charge.refunded", created: base,
                object: FakeStripe.chargeObject(
                    chargeID: ref(refs, "ch:") ?? "ch_none", customer: nil, invoice: ref(refs, "in:"),
                    paymentIntent: ref(refs, "pi:"), userID: userID, plan: nil, amount: 999, amountRefunded: 999))
        case .disputeCreated(let eventID, let id, let refs), .disputeClosed(let eventID, let id, let refs, _):
            var status = "needs_response"
            var type = "charge.dispute.created"
            if case .disputeClosed(_, _, _, let won) = fact {
                status = won ? "won" : "lost"
                type = "charge.dispute.closed"
            }
            return FakeStripe.event(
                id: eventID, type: type, created: base,
                object: [
                    "id": id, "object": "dispute", "charge": ref(refs, "ch:") ?? "ch_none",
                    "payment_intent": ref(refs, "pi:") ?? NSNull(), "status": status, "amount": 999, "currency": "usd",
                ])
        case .subscriptionDeleted(let eventID, let subscription, let at):
            return FakeStripe.subscriptionDeleted(
                eventID: eventID, created: at, subscriptionID: subscription, customer: "cus_model", userID: userID,
                plan: nil, priceID: "price_pm", currentPeriodEnd: at + 86_400)
        case .checkoutPaid(let eventID, let session, let paymentIntent, let plan, let created, _):
            var object = FakeStripe.checkoutSessionObject(
                sessionID: session, mode: "payment", userID: userID, plan: plan, customer: nil, paymentIntent: paymentIntent)
            object["created"] = created
            return FakeStripe.event(id: eventID, type: "checkout.session.completed", created: created + 3, object: object)
        default:
            return nil
        }
    }

    static func invoiceObject(_ invoice: MoneyFact.Invoice, userID: Int64, status: String) -> [String: Any] {
        var object = FakeStripe.invoiceObject(
            invoiceID: invoice.id, customer: "cus_model", subscription: invoice.subscription, userID: userID, plan: nil,
            priceID: invoice.priceID, periodStart: invoice.periodStart, periodEnd: invoice.periodEnd, status: status,
            created: invoice.created)
        object["payment_intent"] = invoice.paymentIntent
        object["charge"] = invoice.charge
        return object
    }
}
