@testable import Billing
import Foundation
import PGClient
import ServiceLifecycle
import Telegram
import TestSupport
import Testing

@testable import App

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

@Suite struct ReconcileTests {
    typealias H = ReconcileHarness

    @Test func anInvoicePaidNeverDeliveredIsAppliedOnceAndASecondRunRecoversNothing() async throws {
        try await H.with { h in
            let telegramID: Int64 = 881_001
            let user = try await h.user(telegramID: telegramID)
            h.stripe.addEvents([H.paid(userID: user)])
            #expect(try await h.activePlans(telegramID: telegramID).isEmpty)

            let first = try await h.run(.stripe)
            #expect(first == ReconcileReport(provider: .stripe, seen: 1, recovered: 1, failed: 0))
            #expect(try await h.activePlans(telegramID: telegramID) == [H.plan])
            #expect(try h.metric("reconcile_recovered_total", provider: "stripe") == 1)
            #expect((try h.metric("reconcile_last_success_timestamp_seconds", provider: "stripe") ?? 0) > 0)

            let second = try await h.run(.stripe)
            #expect(second == ReconcileReport(provider: .stripe, seen: 1, recovered: 0, failed: 0))
            #expect(try await h.count("SELECT count(*) FROM entitlement_grants") == 1)
            #expect(try await h.count("SELECT count(*) FROM payment_events WHERE provider = 'stripe'") == 1)
            #expect(
                try await h.count(
                    "SELECT count(*) FROM reconcile_runs WHERE provider = 'stripe' AND finished_at IS NOT NULL AND NOT dry_run")
                    == 2)
            #expect(try await h.count("SELECT sum(recovered)::int FROM reconcile_runs") == 1)
            // Only the handled types are asked for, from the window's start.
            let request = try #require(h.stripe.requests(path: "/v1/events").first)
            #expect(request.formFields.contains { $0.name == "types[]" && $0.value == "invoice.paid" })
            #expect(request.formFields.contains { $0.name == "created[gte]" })
        }
    }

    @Test func theSameEventByWebhookAndByReconciliation20TimesConcurrentlyIsAppliedOnce() async throws {
        try await H.with { h in
            let telegramID: Int64 = 881_002
            let user = try await h.user(telegramID: telegramID)
            let body = H.paid(userID: user)
            h.stripe.addEvents([body])
            let event = try StripeEvent(decoding: body)
            let processor = StripeWebhookRoutes.makeProcessor(config: h.config, dependencies: h.dependencies)
            let applied = try await withThrowingTaskGroup(of: Int.self) { group in
                for index in 0..<20 {
                    group.addTask {
                        if index.isMultiple(of: 2) {
                            let outcome = try await processor.receive(event, rawBody: String(decoding: body, as: UTF8.self))
                            return outcome == .processed ? 1 : 0
                        }
                        return try await h.reconciler().run(.stripe, since: h.since, dryRun: false, waitForLock: index < 10)
                            .recovered
                    }
                }
                return try await group.reduce(0, +)
            }
            #expect(applied == 1)
            #expect(try await h.count("SELECT count(*) FROM entitlement_grants") == 1)
            #expect(try await h.count("SELECT count(*) FROM invoices") == 1)
            #expect(try await h.count("SELECT count(*) FROM payment_events") == 1)
            #expect(try await h.activePlans(telegramID: telegramID) == [H.plan])
        }
    }

    @Test func pagesOverMoreThan250EventsOldestFirst() async throws {
        try await H.with { h in
            let telegramID: Int64 = 881_003
            let user = try await h.user(telegramID: telegramID)
            let start = FakeStripe.nowSeconds() - 1000
            let bodies = (0..<260).map { index in
                H.paid(userID: user, eventID: "evt_page_\(index)", created: start + Int64(index))
            }
            h.stripe.addEvents(bodies.shuffled())
            let report = try await h.run(.stripe)
            #expect(report == ReconcileReport(provider: .stripe, seen: 260, recovered: 260, failed: 0))
            let pages = h.stripe.requests(path: "/v1/events")
            #expect(pages.count == 3)
            #expect(pages.map { $0.form["starting_after"] } == [nil, "evt_page_160", "evt_page_60"])
            #expect(try await h.count("SELECT count(*) FROM payment_events WHERE provider = 'stripe'") == 260)
            // Applied in the order they happened: ledger ids follow `created`.
            let order = try await h.pool.withConnection { connection in
                try await connection.query("SELECT event_id FROM payment_events ORDER BY id").map {
                    try $0.decode("event_id", as: String.self)
                }
            }
            #expect(order == (0..<260).map { "evt_page_\($0)" })
            #expect(try await h.run(.stripe).recovered == 0)
        }
    }

    @Test func a429FromStripeIsWaitedOutAndTheRunContinues() async throws {
        try await H.with { h in
            let telegramID: Int64 = 881_004
            let user = try await h.user(telegramID: telegramID)
            h.stripe.addEvents([H.paid(userID: user)])
            // More 429s than the client's own three attempts: the reconciler pauses and asks again.
            h.stripe.inject(
                .error(
                    status: 429, type: "invalid_request_error", code: "rate_limit", message: "Too many requests",
                    headers: ["Retry-After": "1"]),
                count: 4, path: "/v1/events")
            let started = ContinuousClock.now
            let report = try await h.run(.stripe)
            let elapsed = ContinuousClock.now - started
            #expect(report == ReconcileReport(provider: .stripe, seen: 1, recovered: 1, failed: 0))
            #expect(elapsed >= .milliseconds(2900), "Retry-After: 1 was not honoured (\(elapsed))")
            #expect(h.stripe.requests(path: "/v1/events").map(\.status) == [429, 429, 429, 429, 200])
            #expect(try await h.activePlans(telegramID: telegramID) == [H.plan])
        }
    }

    @Test func aStarsChargeOnlyInGetStarTransactionsIsGrantedOnce() async throws {
        try await H.with { h in
            let buyer: Int64 = 881_005
            let signer = StarsInvoicePayloadSigner(botToken: h.bot.token)
            let payload = try signer.make(plan: H.starsPlan, telegramUserID: buyer)
            let now = Int64(Date().timeIntervalSince1970)
            h.bot.addStarTransactions([
                FakeBotAPI.starPayment(chargeID: "stars_charge_1", amount: 100, date: now - 60, userID: buyer, payload: payload),
                // Outside the window, and not a user payment: neither is looked at.
                FakeBotAPI.starPayment(
                    chargeID: "stars_old", amount: 100, date: now - 7200, userID: buyer, payload: payload),
                ["id": "fragment_1", "amount": 50, "date": .integer(now - 30), "receiver": ["type": "fragment"]],
            ])
            let first = try await h.run(.telegramStars)
            #expect(first == ReconcileReport(provider: .telegramStars, seen: 1, recovered: 1, failed: 0))
            #expect(try await h.activePlans(telegramID: buyer) == [H.starsPlan])
            let second = try await h.run(.telegramStars)
            #expect(second == ReconcileReport(provider: .telegramStars, seen: 1, recovered: 0, failed: 0))
            #expect(try await h.count("SELECT count(*) FROM entitlement_grants") == 1)
            #expect(
                try await h.count(
                    "SELECT count(*) FROM payment_events WHERE provider = 'telegram_stars' AND event_id = 'stars_charge_1'")
                    == 1)
            #expect(try h.metric("reconcile_recovered_total", provider: "telegram_stars") == 1)
        }
    }

    @Test func aStarsListingInChronologicalOrderIsReadToItsEnd() async throws {
        try await H.with { h in
            let buyer: Int64 = 881_006
            let signer = StarsInvoicePayloadSigner(botToken: h.bot.token)
            let payload = try signer.make(plan: H.starsPlan, telegramUserID: buyer)
            let now = Int64(Date().timeIntervalSince1970)
            // As the Bot API documents it: oldest first. 250 old charges fill the first pages entirely.
            var listing = (0..<250).map { index in
                FakeBotAPI.starPayment(
                    chargeID: "stars_old_\(index)", amount: 100, date: now - 90_000 + Int64(index), userID: buyer,
                    payload: payload)
            }
            listing.append(
                FakeBotAPI.starPayment(chargeID: "stars_recent", amount: 100, date: now - 60, userID: buyer, payload: payload))
            h.bot.addStarTransactions(listing)
            let report = try await h.run(.telegramStars)
            #expect(report == ReconcileReport(provider: .telegramStars, seen: 1, recovered: 1, failed: 0))
            #expect(h.bot.callCount("getStarTransactions") == 3)
            #expect(try await h.activePlans(telegramID: buyer) == [H.starsPlan])
        }
    }

    @Test func aStarsRefundOnlyInGetStarTransactionsEndsTheCharge() async throws {
        try await H.with { h in
            let buyer: Int64 = 881_006
            let payload = try StarsInvoicePayloadSigner(botToken: h.bot.token).make(plan: H.starsPlan, telegramUserID: buyer)
            let now = Int64(Date().timeIntervalSince1970)
            // Newest first: the refund, then the payment it refunds.
            h.bot.addStarTransactions([
                FakeBotAPI.starRefund(chargeID: "stars_charge_2", amount: 100, date: now - 10, userID: buyer),
                FakeBotAPI.starPayment(chargeID: "stars_charge_2", amount: 100, date: now - 60, userID: buyer, payload: payload),
            ])
            let report = try await h.run(.telegramStars)
            #expect(report == ReconcileReport(provider: .telegramStars, seen: 2, recovered: 2, failed: 0))
            #expect(try await h.activePlans(telegramID: buyer).isEmpty)
            #expect(try await h.count("SELECT count(*) FROM invoices WHERE status = 'refunded'") == 1)
            #expect(try await h.run(.telegramStars).recovered == 0)
        }
    }

    @Test func aStarsPaymentWithAForgedPayloadFails() async throws {
        try await H.with { h in
            let now = Int64(Date().timeIntervalSince1970)
            h.bot.addStarTransactions([
                FakeBotAPI.starPayment(chargeID: "stars_forged", amount: 100, date: now, userID: 881_007, payload: "forged")
            ])
            let report = try await h.run(.telegramStars)
            #expect(report == ReconcileReport(provider: .telegramStars, seen: 1, recovered: 0, failed: 1))
            #expect(try await h.count("SELECT count(*) FROM payment_events") == 0)
            #expect(try await h.count("SELECT count(*) FROM reconcile_runs WHERE failed = 1") == 1)
        }
    }

    @Test func dryRunWritesNothingButReportsWhatItWouldRecover() async throws {
        try await H.with { h in
            let buyer: Int64 = 881_008
            let user = try await h.user(telegramID: buyer)
            h.stripe.addEvents([H.paid(userID: user)])
            let payload = try StarsInvoicePayloadSigner(botToken: h.bot.token).make(plan: H.starsPlan, telegramUserID: buyer)
            h.bot.addStarTransactions([
                FakeBotAPI.starPayment(
                    chargeID: "stars_dry", amount: 100, date: Int64(Date().timeIntervalSince1970), userID: buyer,
                    payload: payload)
            ])
            #expect(try await h.run(.stripe, dryRun: true) == ReconcileReport(provider: .stripe, seen: 1, recovered: 1))
            #expect(
                try await h.run(.telegramStars, dryRun: true)
                    == ReconcileReport(provider: .telegramStars, seen: 1, recovered: 1))
            #expect(try await h.count("SELECT count(*) FROM payment_events") == 0)
            #expect(try await h.count("SELECT count(*) FROM reconcile_runs") == 0)
            #expect(try await h.count("SELECT count(*) FROM entitlement_grants") == 0)
            #expect(try h.metric("reconcile_recovered_total", provider: "stripe") == 0)
        }
    }

    @Test func anotherInstanceHoldingTheLockMakesThePeriodicRunSkip() async throws {
        try await H.with { h in
            let holder = try await PGConnection.connect(conninfo: h.database.conninfo)
            defer { holder.close() }
            #expect(try await holder.tryAdvisoryLock(ReconcileProvider.stripe.lockKey))
            let report = try await h.reconciler().run(.stripe, since: h.since, dryRun: false, waitForLock: false)
            #expect(report.skipped)
            #expect(h.stripe.requests(path: "/v1/events").isEmpty)
        }
    }

    @Test func thePeriodicServiceRunsAndStopsOnGracefulShutdown() async throws {
        try await H.with { h in
            let telegramID: Int64 = 881_010
            let user = try await h.user(telegramID: telegramID)
            h.stripe.addEvents([H.paid(userID: user)])
            let service = ReconcileService(
                reconciler: h.reconciler(), providers: [.stripe, .telegramStars], interval: .milliseconds(200),
                lookback: .seconds(3600), logger: AppTestSupport.quietLogger)
            let group = ServiceGroup(services: [service], logger: AppTestSupport.quietLogger)
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask { try await group.run() }
                // A bound on waiting for the runs, not a speed check: generous for a loaded CI machine.
                let deadline = ContinuousClock.now + .seconds(90)
                while try await h.count("SELECT count(*) FROM reconcile_runs WHERE finished_at IS NOT NULL") < 4,
                    ContinuousClock.now < deadline
                {
                    try await Task.sleep(for: .milliseconds(50))
                }
                await group.triggerGracefulShutdown()
                try await tasks.waitForAll()
            }
            #expect(try await h.count("SELECT count(*) FROM reconcile_runs WHERE finished_at IS NOT NULL") >= 4)
            #expect(try await h.count("SELECT sum(recovered)::int FROM reconcile_runs") == 1)
            #expect(try await h.activePlans(telegramID: telegramID) == [H.plan])
        }
    }

    @Test func sinceDurations() {
        #expect(ReconcileCommand.seconds("90m") == 5400)
        #expect(ReconcileCommand.seconds("72h") == 259_200)
        #expect(ReconcileCommand.seconds("3d") == 259_200)
        #expect(ReconcileCommand.seconds("45") == 45)
        #expect(ReconcileCommand.seconds("-1h") == nil)
        #expect(ReconcileCommand.seconds("soon") == nil)
    }

    @Test func theListSlicerKeepsEachEventsBytes() throws {
        let list = Data(
            #"{"object":"list","data":[ {"id":"evt_1","s":"a,]}\"x"} ,{"id":"evt_2","n":[1,{"k":2}]}],"has_more":true}"#.utf8)
        let page = try #require(StripeListSlicer.slice(list))
        #expect(page.hasMore)
        #expect(page.items.map { String(decoding: $0, as: UTF8.self) } == [
            #"{"id":"evt_1","s":"a,]}\"x"}"#, #"{"id":"evt_2","n":[1,{"k":2}]}"#,
        ])
        #expect(StripeListSlicer.slice(Data("[]".utf8)) == nil)
    }

    /// `telebot reconcile` as operators run it: the built binary prints one JSON line per provider.
    @Test func theCommandPrintsOneJSONLinePerProvider() async throws {
        try #require(FileManager.default.fileExists(atPath: ServeProcess.binary), "build the telebot binary first")
        try await H.with { h in
            let telegramID: Int64 = 881_009
            let user = try await h.user(telegramID: telegramID)
            h.stripe.addEvents([H.paid(userID: user)])
            var environment = AppTestSupport.environment([
                "DATABASE_URL": h.database.conninfo,
                "STRIPE_API_KEY": h.stripe.apiKey, "STRIPE_API_BASE_URL": h.stripe.baseURL,
                "TELEGRAM_API_BASE_URL": h.bot.baseURL, "TELEGRAM_BOT_TOKEN": h.bot.token, "LOG_LEVEL": "error",
            ])
            environment["PORT"] = "0"
            let dry = try ServeProcess(arguments: ["reconcile", "--since", "2h", "--dry-run"], environment: environment, port: 0)
            defer { dry.cleanUp() }
            #expect(await dry.exitCode() == 0, "\(dry.stderr)")
            #expect(
                dry.stdout.split(separator: "\n") == [
                    #"{"provider":"stripe","seen":1,"recovered":1,"failed":0}"#,
                    #"{"provider":"telegram_stars","seen":0,"recovered":0,"failed":0}"#,
                ])
            #expect(try await h.count("SELECT count(*) FROM payment_events") == 0)

            let run = try ServeProcess(arguments: ["reconcile", "--provider", "stripe"], environment: environment, port: 0)
            defer { run.cleanUp() }
            #expect(await run.exitCode() == 0, "\(run.stderr)")
            #expect(run.stdout == #"{"provider":"stripe","seen":1,"recovered":1,"failed":0}"# + "\n")
            #expect(try await h.activePlans(telegramID: telegramID) == [H.plan])

            let bad = try ServeProcess(arguments: ["reconcile", "--provider", "paypal"], environment: environment, port: 0)
            defer { bad.cleanUp() }
            #expect(await bad.exitCode() == 2)
        }
    }
}
