import Billing
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import PGClient
import TestSupport

@testable import App

/// The real application (every module, as `serve` builds it) over a database of its own with a Stripe-priced plan,
/// configured with two webhook secrets (rotation) and an admin token, for the Stripe webhook and admin tests.
struct StripeAppHarness: Sendable {
    static let secret = "whsec_testSecretForStripeWebhooks0123"
    static let oldSecret = "whsec_previousSecretStillAccepted4567"
    static let adminToken = "admin-token-for-stripe-tests-0123456789"
    static let plan = "premium_monthly"
    static let price = "price_123"
    static let tolerance: Int64 = 300

    let client: any TestClientProtocol
    let pool: PGPool
    let metrics: AppMetrics

    static func with(
        poolSize: Int = 10, overrides: [String: String] = [:], _ body: @escaping @Sendable (StripeAppHarness) async throws -> Void
    ) async throws {
        try await TestDatabase.with(poolSize: poolSize) { _, pool in
            _ = try await pool.withConnection { connection in
                try await connection.execute(
                    """
                    INSERT INTO plans (code, name, period_days, stripe_price_id, stars_price, recurring, active)
                    VALUES (\(plan), 'Premium, monthly', 30, \(price), NULL, true, true)
                    """)
            }
            let config = try AppConfig.load(
                from: AppTestSupport.environment(
                    [
                        "STRIPE_WEBHOOK_SECRET": "\(secret),\(oldSecret)",
                        "STRIPE_WEBHOOK_TOLERANCE_SECONDS": "\(tolerance)",
                        "STRIPE_API_KEY": FakeStripe.defaultAPIKey,
                        "ADMIN_TOKEN": adminToken,
                    ].merging(overrides) { _, new in new }))
            let metrics = AppMetrics()
            let dependencies = AppDependencies(
                pool: pool, httpClient: .shared, logger: AppTestSupport.quietLogger, metrics: metrics)
            ContractMetrics.register(factory: metrics.factory, planCodes: [plan])
            let app = buildApplication(config: config, dependencies: dependencies, modules: AppModules.all)
            try await app.test(.router) { client in
                try await body(StripeAppHarness(client: client, pool: pool, metrics: metrics))
            }
        }
    }

    /// `POST /webhooks/stripe` with `payload` signed by `secret` at `timestamp` (`signature` overrides the header;
    /// `.some(nil)` sends none).
    func deliver(
        _ payload: Data, secret: String = StripeAppHarness.secret, timestamp: Int64 = FakeStripe.nowSeconds(),
        signature: String?? = nil
    ) async throws -> TestResponse {
        var headers: HTTPFields = [.contentType: "application/json"]
        let header = signature ?? FakeStripe.signedWebhook(payload: payload, secret: secret, timestamp: timestamp)
        if let header, let name = HTTPField.Name("Stripe-Signature") { headers[name] = header }
        return try await client.execute(
            uri: "/webhooks/stripe", method: .post, headers: headers, body: ByteBuffer(bytes: payload))
    }

    /// `POST /admin/v1/payment-events/{id}/retry` (`token` nil: no `Authorization`).
    func retry(_ id: String, token: String? = StripeAppHarness.adminToken) async throws -> TestResponse {
        var headers: HTTPFields = [:]
        if let token { headers[.authorization] = "Bearer \(token)" }
        return try await client.execute(uri: "/admin/v1/payment-events/\(id)/retry", method: .post, headers: headers)
    }

    func user(telegramID: Int64 = 777_001) async throws -> Int64 {
        try await pool.withConnection { try await UserStore.ensure($0, telegramID: telegramID) }
    }

    func count(_ query: PGQuery) async throws -> Int {
        try await pool.withConnection { try await $0.query(query).first?.decode(at: 0, as: Int.self) ?? -1 }
    }

    func status(eventID: String) async throws -> String? {
        try await pool.withConnection {
            try await $0.query("SELECT status FROM payment_events WHERE event_id = \(eventID)").first?
                .decode("status", as: String.self)
        }
    }

    func ledgerID(eventID: String) async throws -> Int64? {
        try await pool.withConnection {
            try await $0.query("SELECT id FROM payment_events WHERE event_id = \(eventID)").first?.decode("id", as: Int64.self)
        }
    }

    /// `webhook_events_total{provider="stripe",outcome}` in the app's own registry.
    func webhookCount(_ outcome: String) throws -> Double {
        try PrometheusText(metrics.registry.emitToString())
            .value("webhook_events_total", ["provider": "stripe", "outcome": outcome]) ?? 0
    }
}
