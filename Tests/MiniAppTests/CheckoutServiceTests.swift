import AsyncHTTPClient
import Billing
import Foundation
import Logging
import MiniApp
import PGClient
import Telegram
import TestSupport
import Testing

/// `CheckoutService` against a real database, `FakeStripe` and `FakeBotAPI`: at most one provider call per
/// `Idempotency-Key`, one Stripe customer per user, keys released after provider failures.
@Suite struct CheckoutServiceTests {
    static let publicBaseURL = "https://shop.example.test/app"
    static let telegramID: Int64 = 5_550_001
    /// Fast retries so that failure tests do not wait for production backoffs.
    static let stripeRetry = StripeRetryPolicy(maxAttempts: 3, initialBackoff: .milliseconds(5), maxBackoff: .milliseconds(20))
    static let botRetry = BotAPIRetryPolicy(maxAttempts: 3, baseDelay: .milliseconds(5), maxDelay: .milliseconds(20))
    static let sessionsPath = "/v1/checkout/sessions"
    static let customersPath = "/v1/customers"

    /// One test's world.
    struct World: Sendable {
        let pool: PGPool
        let stripe: FakeStripe
        let bot: FakeBotAPI
        let service: CheckoutService
        let signer: StarsInvoicePayloadSigner
        let userID: Int64

        func checkout(
            _ plan: String, _ provider: PaymentProvider, key: String?, userID: Int64? = nil,
            telegramID: Int64 = CheckoutServiceTests.telegramID
        ) async throws -> (result: CheckoutService.Result, replayed: Bool) {
            try await service.checkout(
                userID: userID ?? self.userID, telegramID: telegramID, plan: plan, provider: provider, idempotencyKey: key)
        }

        func count(_ query: PGQuery) async throws -> Int {
            try await pool.withConnection { try await $0.query(query).first?.decode(at: 0, as: Int.self) ?? -1 }
        }
    }

    /// A fresh database with plans and one user, both fakes, and the service wired to them.
    static func with(stripeConfigured: Bool = true, poolSize: Int = 8, _ body: @escaping @Sendable (World) async throws -> Void)
        async throws
    {
        try await TestDatabase.with(poolSize: poolSize) { _, pool in
            try await insertPlans(pool)
            let userID = try await makeUser(pool, telegramID: telegramID)
            try await FakeStripe.with { stripe in
                try await FakeBotAPI.with { bot in
                    var logger = Logger(label: "checkout-test")
                    logger.logLevel = .critical
                    let stripeClient = StripeClient(
                        configuration: StripeClientConfiguration(
                            apiKey: stripe.apiKey, apiBaseURL: stripe.baseURL, publicBaseURL: publicBaseURL,
                            requestTimeout: .seconds(10), retry: stripeRetry),
                        httpClient: .shared, logger: logger)
                    let botClient = BotAPIClient(
                        httpClient: .shared,
                        configuration: BotAPIConfiguration(token: bot.token, baseURL: bot.baseURL, retry: botRetry),
                        logger: logger)
                    let signer = StarsInvoicePayloadSigner(botToken: bot.token)
                    let service = CheckoutService(
                        pool: pool, stripe: stripeConfigured ? stripeClient : nil, bot: botClient, signer: signer,
                        logger: logger)
                    try await body(
                        World(pool: pool, stripe: stripe, bot: bot, service: service, signer: signer, userID: userID))
                }
            }
        }
    }

    static func insertPlans(_ pool: PGPool) async throws {
        _ = try await pool.withConnection { connection in
            try await connection.execute(
                """
                INSERT INTO plans (code, name, period_days, stripe_price_id, stars_price, recurring, active) VALUES
                ('premium_monthly', 'Premium, monthly', 30, 'price_premium', 250, true, true),
                ('boost_week', 'Boost week', 7, NULL, 50, false, true),
                ('card_year', 'Card year', 365, 'price_card_year', NULL, false, true),
                ('retired', 'Retired', 30, 'price_retired', 100, false, false)
                """)
        }
    }

    static func makeUser(_ pool: PGPool, telegramID: Int64) async throws -> Int64 {
        try await pool.withConnection { try await UserStore.upsert($0, profile: TelegramProfile(telegramID: telegramID)).id }
    }

    // MARK: Idempotency

    @Test func sameKeyTwiceMakesOneStripeCallAndAnswersTheSameURL() async throws {
        try await Self.with { world in
            let first = try await world.checkout("premium_monthly", .stripe, key: "key-1")
            let second = try await world.checkout("premium_monthly", .stripe, key: "key-1")
            #expect(first.replayed == false)
            #expect(second.replayed == true)
            #expect(first.result == second.result)
            #expect(first.result.provider == "stripe")
            #expect(first.result.url.hasPrefix("https://checkout.stripe.com/"))
            #expect(world.stripe.requests(path: Self.sessionsPath).count == 1)
            #expect(world.stripe.createdIDs(.checkoutSession).count == 1)

            let request = try #require(world.stripe.requests(path: Self.sessionsPath).first)
            #expect(request.form["mode"] == "subscription")
            #expect(request.form["line_items[0][price]"] == "price_premium")
            #expect(request.form["client_reference_id"] == String(world.userID))
            #expect(request.form["metadata[plan]"] == "premium_monthly")
            #expect(request.form["customer"] == world.stripe.createdIDs(.customer).first)
            // The Stripe key is derived from ours: present, stable, not ours verbatim.
            let stripeKey = try #require(request.idempotencyKey)
            #expect(stripeKey != "key-1")
            #expect(!stripeKey.contains("key-1"))
        }
    }

    @Test func aOneTimePlanIsSoldInPaymentMode() async throws {
        try await Self.with { world in
            _ = try await world.checkout("card_year", .stripe, key: "one-time")
            let request = try #require(world.stripe.requests(path: Self.sessionsPath).first)
            #expect(request.form["mode"] == "payment")
            #expect(request.form["line_items[0][price]"] == "price_card_year")
        }
    }

    @Test func sameKeyWithAnotherBodyIsRefusedWithoutAProviderCall() async throws {
        try await Self.with { world in
            _ = try await world.checkout("premium_monthly", .stripe, key: "reused")
            await #expect(throws: CheckoutError.idempotencyKeyReused) {
                try await world.checkout("premium_monthly", .telegramStars, key: "reused")
            }
            await #expect(throws: CheckoutError.idempotencyKeyReused) {
                try await world.checkout("card_year", .stripe, key: "reused")
            }
            #expect(world.stripe.requests(path: Self.sessionsPath).count == 1)
            #expect(world.bot.callCount("createInvoiceLink") == 0)
        }
    }

    @Test func keysAreScopedPerUser() async throws {
        try await Self.with { world in
            let otherTelegramID: Int64 = 5_550_002
            let other = try await Self.makeUser(world.pool, telegramID: otherTelegramID)
            let mine = try await world.checkout("premium_monthly", .stripe, key: "shared-key")
            let theirs = try await world.checkout(
                "premium_monthly", .stripe, key: "shared-key", userID: other, telegramID: otherTelegramID)
            #expect(mine.replayed == false)
            #expect(theirs.replayed == false)
            #expect(mine.result.url != theirs.result.url)
            let keys = world.stripe.requests(path: Self.sessionsPath).compactMap(\.idempotencyKey)
            #expect(Set(keys).count == 2)
        }
    }

    @Test func idempotencyKeyMustBeOneTo255Characters() async throws {
        try await Self.with { world in
            for key in [nil, "", String(repeating: "k", count: 256)] {
                await #expect(throws: CheckoutError.invalidIdempotencyKey) {
                    try await world.checkout("premium_monthly", .stripe, key: key)
                }
            }
            #expect(world.stripe.requests.isEmpty)
            let longest = try await world.checkout("premium_monthly", .stripe, key: String(repeating: "k", count: 255))
            #expect(longest.replayed == false)
        }
    }

    /// 20 identical requests at once while Stripe is slow: one provider call, everyone else 409 or the same answer.
    @Test func twentyConcurrentRequestsWithOneKeyMakeExactlyOneProviderCall() async throws {
        try await Self.with(poolSize: 10) { world in
            world.stripe.inject(.delay(.seconds(1)), path: Self.sessionsPath)
            let outcomes = try await withThrowingTaskGroup(of: Outcome.self) { group in
                for _ in 0..<20 {
                    group.addTask {
                        do {
                            let (result, replayed) = try await world.checkout("premium_monthly", .stripe, key: "burst")
                            return replayed ? .replayed(result.url) : .fresh(result.url)
                        } catch CheckoutError.inFlight {
                            return .inFlight
                        }
                    }
                }
                return try await group.reduce(into: [Outcome]()) { $0.append($1) }
            }
            #expect(outcomes.count == 20)
            #expect(world.stripe.requests(path: Self.sessionsPath).count == 1)
            #expect(world.stripe.requests(path: Self.customersPath).count == 1)
            let fresh = outcomes.compactMap { if case .fresh(let url) = $0 { url } else { nil } }
            let replayed = outcomes.compactMap { if case .replayed(let url) = $0 { url } else { nil } }
            let inFlight = outcomes.filter { $0 == .inFlight }.count
            #expect(fresh.count == 1)
            #expect(inFlight + replayed.count == 19)
            #expect(inFlight >= 1, "Stripe was slow: some requests must have found the key in flight")
            #expect(Set(fresh + replayed).count == 1)

            // Afterwards the key answers from the store.
            let later = try await world.checkout("premium_monthly", .stripe, key: "burst")
            #expect(later.replayed)
            #expect(later.result.url == fresh.first)
            #expect(world.stripe.requests(path: Self.sessionsPath).count == 1)
            #expect(try await world.count("SELECT count(*) FROM idempotency_keys") == 1)
        }
    }

    enum Outcome: Equatable, Sendable {
        case fresh(String)
        case replayed(String)
        case inFlight
    }

    // MARK: Stars

    @Test func starsCheckoutCreatesOneInvoiceLinkWithTheSignedPayload() async throws {
        try await Self.with { world in
            let first = try await world.checkout("premium_monthly", .telegramStars, key: "stars-1")
            let again = try await world.checkout("premium_monthly", .telegramStars, key: "stars-1")
            #expect(first.result.provider == "telegram_stars")
            #expect(first.result.url.hasPrefix("https://t.me/$"))
            #expect(again.replayed)
            #expect(again.result == first.result)
            #expect(world.bot.callCount("createInvoiceLink") == 1)
            #expect(world.stripe.requests.isEmpty)

            let call = try #require(world.bot.calls("createInvoiceLink").first)
            #expect(call.body["currency"]?.string == "XTR")
            #expect(call.body["provider_token"]?.string ?? "" == "")
            let prices = try #require(call.body["prices"]?.array)
            #expect(prices.count == 1)
            #expect(prices.first?["amount"]?.int == 250)
            #expect(call.body["subscription_period"]?.int == 2_592_000)
            let payload = try #require(call.body["payload"]?.string)
            let verified = try world.signer.verify(payload, expectedTelegramUserID: Self.telegramID, maxAge: 60)
            #expect(verified.plan == "premium_monthly")
            #expect(verified.telegramUserID == Self.telegramID)
            #expect(throws: StarsInvoicePayloadError.wrongUser) {
                try world.signer.verify(payload, expectedTelegramUserID: Self.telegramID + 1, maxAge: 60)
            }
        }
    }

    @Test func aOneTimeStarsPlanHasNoSubscriptionPeriod() async throws {
        try await Self.with { world in
            _ = try await world.checkout("boost_week", .telegramStars, key: "stars-once")
            let call = try #require(world.bot.calls("createInvoiceLink").first)
            #expect(call.body["subscription_period"] == nil)
            #expect(call.body["prices"]?[0]?["amount"]?.int == 50)
            #expect(call.body["currency"]?.string == "XTR")
        }
    }

    // MARK: Customers
}
