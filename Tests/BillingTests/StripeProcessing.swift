import Billing
import Foundation
import Logging
import PGClient
import TestSupport
import Testing

/// Set-up shared by the Stripe processing tests: a recurring plan priced `price_123` (FakeStripe's default price),
/// a one-time plan, users, and a processor whose retries are due almost at once.
enum StripeProcessing {
    static let plan = "premium_monthly"
    static let price = "price_123"
    static let oneTimePlan = "boost_month"
    static let oneTimePrice = "price_once"
    static let oneTimeDays = 30

    static func plans(_ pool: PGPool) async throws {
        try await BillingFixtures.plan(pool, code: plan, days: 30, stars: nil, stripePrice: price, recurring: true)
        try await BillingFixtures.plan(
            pool, code: oneTimePlan, days: oneTimeDays, stars: nil, stripePrice: oneTimePrice, recurring: false)
    }

    static func processor(_ pool: PGPool, maxAttempts: Int = 3) -> StripeWebhookProcessor {
        var logger = Logger(label: "stripe-test")
        logger.logLevel = .critical
        return StripeWebhookProcessor(pool: pool, logger: logger, retryBase: .milliseconds(1), maxAttempts: maxAttempts)
    }

    static func receive(_ processor: StripeWebhookProcessor, _ body: Data) async throws -> StripeWebhookProcessor.Outcome {
        try await processor.receive(try StripeEvent(decoding: body), rawBody: String(decoding: body, as: UTF8.self))
    }

    static func link(_ pool: PGPool, user: Int64, customer: String) async throws {
        _ = try await pool.withConnection { try await StripeCustomerStore.link($0, userID: user, customerID: customer) }
    }

    static func entitlement(_ pool: PGPool, user: Int64, plan: String = plan) async throws -> Entitlement? {
        try await pool.withConnection { try await EntitlementStore.find($0, userID: user, plan: plan) }
    }

    static func ledger(_ pool: PGPool, eventID: String) async throws -> PaymentEvent? {
        try await pool.withConnection { connection in
            guard
                let id = try await connection.query(
                    "SELECT id FROM payment_events WHERE provider = 'stripe' AND event_id = \(eventID)"
                ).first?.decode("id", as: Int64.self)
            else { return nil }
            return try await PaymentLedger.find(connection, id: id)
        }
    }

    static func text(_ pool: PGPool, _ query: PGQuery) async throws -> String? {
        try await pool.withConnection { try await $0.query(query).first?.decode(at: 0, as: String?.self) ?? nil }
    }

    static var now: Int64 { FakeStripe.nowSeconds() }
    static func days(_ count: Int64) -> Int64 { count * 86_400 }
}
