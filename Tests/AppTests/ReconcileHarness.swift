import Foundation
import PGClient
import ServiceLifecycle
import Telegram
import TestSupport
import Testing

@testable import App
@testable import Billing

/// A database with a Stripe plan and a Stars plan, a fake Stripe and a fake Bot API, and the reconciler `serve` and
/// `telebot reconcile` build from that configuration.
struct ReconcileHarness: Sendable {
    static let plan = "premium_monthly"
    static let price = "price_123"
    static let starsPlan = "stars_monthly"

    let database: TestDatabase
    let pool: PGPool
    let stripe: FakeStripe
    let bot: FakeBotAPI
    let config: AppConfig
    let dependencies: AppDependencies
    let metrics: AppMetrics

    static func with(_ body: @escaping @Sendable (ReconcileHarness) async throws -> Void) async throws {
        try await TestDatabase.with(poolSize: 12) { database, pool in
            _ = try await pool.withConnection { connection in
                try await connection.execute(
                    """
                    INSERT INTO plans (code, name, period_days, stripe_price_id, stars_price, recurring, active)
                    VALUES (\(plan), 'Premium, monthly', 30, \(price), NULL, true, true),
                           (\(starsPlan), 'Stars, monthly', 30, NULL, 100, false, true)
                    """)
            }
            try await FakeStripe.with { stripe in
                try await FakeBotAPI.with { bot in
                    let config = try AppConfig.load(
                        from: AppTestSupport.environment([
                            "DATABASE_URL": database.conninfo,
                            "STRIPE_API_KEY": stripe.apiKey, "STRIPE_API_BASE_URL": stripe.baseURL,
                            "TELEGRAM_API_BASE_URL": bot.baseURL, "TELEGRAM_BOT_TOKEN": bot.token,
                        ]))
                    let metrics = AppMetrics()
                    ContractMetrics.register(factory: metrics.factory, planCodes: [plan, starsPlan])
                    let dependencies = AppDependencies(
                        pool: pool, httpClient: .shared, logger: AppTestSupport.quietLogger, metrics: metrics)
                    try await body(
                        ReconcileHarness(
                            database: database, pool: pool, stripe: stripe, bot: bot, config: config,
                            dependencies: dependencies, metrics: metrics))
                }
            }
        }
    }

    func reconciler() -> Reconciler {
        var reconciler = Reconciler(config: config, dependencies: dependencies)
        reconciler.rateLimitPause = .milliseconds(50)
        return reconciler
    }

    var since: Date { Date().addingTimeInterval(-3600) }

    func run(_ provider: ReconcileProvider, dryRun: Bool = false) async throws -> ReconcileReport {
        try await reconciler().run(provider, since: since, dryRun: dryRun, waitForLock: true)
    }

    func user(telegramID: Int64) async throws -> Int64 {
        try await pool.withConnection { try await UserStore.ensure($0, telegramID: telegramID) }
    }

    func count(_ query: PGQuery) async throws -> Int {
        try await pool.withConnection { try await $0.query(query).first?.decode(at: 0, as: Int.self) ?? -1 }
    }

    func activePlans(telegramID: Int64) async throws -> [String] {
        try await pool.withConnection { connection in
            try await connection.query(
                """
                SELECT e.plan FROM user_entitlements e JOIN users u ON u.id = e.user_id
                WHERE u.telegram_user_id = \(telegramID) AND e.status = 'active' AND e.expires_at > now()
                ORDER BY e.plan
                """
            ).map { try $0.decode("plan", as: String.self) }
        }
    }

    func metric(_ name: String, provider: String) throws -> Double? {
        try PrometheusText(metrics.registry.emitToString()).value(name, ["provider": provider])
    }

    static func paid(userID: Int64, eventID: String = FakeStripe.newID("evt"), created: Int64 = FakeStripe.nowSeconds())
        -> Data
    {
        let now = FakeStripe.nowSeconds()
        return FakeStripe.invoicePaid(
            eventID: eventID, created: created, userID: userID, plan: plan, periodStart: now, periodEnd: now + 30 * 86_400)
    }
}
