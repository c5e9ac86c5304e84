import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import PGClient
import Telegram
import TestSupport

@testable import App

/// The real application (every module) over a database of its own, with both providers played on loopback:
/// `FakeBotAPI` for Telegram and `FakeStripe` for Stripe. For the operators' APIs, which see both.
struct AdminAppHarness: Sendable {
    let telegram: TelegramAppHarness
    let stripeApp: StripeAppHarness
    let stripe: FakeStripe

    var client: any TestClientProtocol { telegram.client }
    var pool: PGPool { telegram.pool }

    static func with(poolSize: Int = 12, _ body: @escaping @Sendable (AdminAppHarness) async throws -> Void) async throws {
        try await TestDatabase.with(poolSize: poolSize) { _, pool in
            try await TelegramAppHarness.insertPlans(pool)
            _ = try await pool.withConnection { connection in
                try await connection.execute(
                    """
                    INSERT INTO plans (code, name, period_days, stripe_price_id, stars_price, recurring, active)
                    VALUES ('premium_monthly', 'Premium, monthly', 30, 'price_123', NULL, true, true)
                    """)
            }
            try await FakeBotAPI.with { bot in
                try await FakeStripe.with { stripe in
                    let config = try AppConfig.load(
                        from: AppTestSupport.environment([
                            "TELEGRAM_BOT_TOKEN": bot.token, "TELEGRAM_API_BASE_URL": bot.baseURL,
                            "TELEGRAM_WEBHOOK_SECRET": TelegramAppHarness.webhookSecret,
                            "ADMIN_TOKEN": TelegramAppHarness.adminToken,
                            "STRIPE_API_KEY": stripe.apiKey, "STRIPE_API_BASE_URL": stripe.baseURL,
                            "STRIPE_WEBHOOK_SECRET": StripeAppHarness.secret,
                        ]))
                    let metrics = AppMetrics()
                    let dependencies = AppDependencies(
                        pool: pool, httpClient: .shared, logger: AppTestSupport.quietLogger, metrics: metrics)
                    ContractMetrics.register(factory: metrics.factory, planCodes: [TelegramAppHarness.plan])
                    let app = buildApplication(config: config, dependencies: dependencies, modules: AppModules.all)
                    try await app.test(.router) { client in
                        try await body(
                            AdminAppHarness(
                                telegram: TelegramAppHarness(
                                    client: client, pool: pool, fake: bot, metrics: metrics,
                                    signer: StarsInvoicePayloadSigner(botToken: bot.token)),
                                stripeApp: StripeAppHarness(client: client, pool: pool, metrics: metrics),
                                stripe: stripe))
                    }
                }
            }
        }
    }

    /// An admin API request with the admin token.
    func admin(_ method: HTTPRequest.Method, _ uri: String, json: String? = nil, token: String? = TelegramAppHarness.adminToken)
        async throws -> TestResponse
    {
        try await telegram.admin(method, uri, json: json, token: token)
    }

    /// `POST /admin/v1/stripe/refunds` with `json`.
    func stripeRefund(_ json: String) async throws -> TestResponse {
        try await admin(.post, "/admin/v1/stripe/refunds", json: json)
    }

    /// Delivers a signed `invoice.paid` of `premium_monthly` for `userID` and stubs the invoice at the fake, paid by
    /// `paymentIntent`, as Stripe would show it.
    func payStripeInvoice(userID: Int64, invoiceID: String, paymentIntent: String) async throws {
        let now = FakeStripe.nowSeconds()
        let body = FakeStripe.invoicePaid(
            invoiceID: invoiceID, userID: userID, plan: "premium_monthly", periodStart: now, periodEnd: now + 30 * 86_400)
        let response = try await stripeApp.deliver(body)
        guard response.status == .ok else { throw HarnessFailure("invoice.paid answered \(response.status)") }
        stripe.stub(
            path: "/v1/invoices/\(invoiceID)",
            json: Data(#"{"id":"\#(invoiceID)","object":"invoice","payment_intent":"\#(paymentIntent)"}"#.utf8))
    }

    func count(_ query: PGQuery) async throws -> Int { try await telegram.count(query) }
}
