import Foundation
import PGClient
import ServiceLifecycle
import Telegram
import TestSupport
import Testing

@testable import App
@testable import Billing

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
            let processor = h.dependencies.clients(h.config).stripeProcessor
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
}
