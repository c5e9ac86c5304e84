import Billing
import CoreMetrics
import Foundation
import Logging
import PGClient
import Telegram

/// The providers reconciliation asks for what their webhooks may have missed.
enum ReconcileProvider: String, Sendable, CaseIterable {
    case stripe
    case telegramStars = "telegram_stars"

    /// Session advisory lock key: one run per provider at a time, across instances.
    var lockKey: Int64 {
        switch self {
        case .stripe: 0x7265_636F_6E01  // "recon" 1
        case .telegramStars: 0x7265_636F_6E02
        }
    }
}

/// What one run found, printed as one JSON line by `telebot reconcile`.
struct ReconcileReport: Sendable, Equatable {
    var provider: ReconcileProvider
    /// Events (Stripe) or payment and refund transactions (Stars) in the window.
    var seen = 0
    /// Of those, the ones the ledger lacked and that are now applied (with `--dry-run`: that would be applied).
    var recovered = 0
    /// Ones that could not be applied (or listed: a failed API page counts one), retried by the next run.
    var failed = 0
    /// Another instance held the provider's lock: nothing was done.
    var skipped = false

    var jsonLine: String {
        #"{"provider":"\#(provider.rawValue)","seen":\#(seen),"recovered":\#(recovered),"failed":\#(failed)}"#
    }
}

/// Finds payments whose webhooks never arrived and applies them through the code the webhooks use: Stripe's
/// `GET /v1/events` through `StripeWebhookProcessor.receive` (a known event id is a duplicate and changes nothing),
/// Telegram's `getStarTransactions` through `StarsLedger.applyPayment` / `applyRefund` (one ledger row per charge).
/// Keeps nothing in memory between runs: each run reads its whole window again, and the ledger decides what is new.
struct Reconciler: Sendable {
    let pool: PGPool
    /// nil when `STRIPE_API_KEY` is unset: the Stripe run reports one failure.
    let stripe: StripeClient?
    let stripeProcessor: StripeWebhookProcessor
    let bot: BotAPIClient
    let signer: StarsInvoicePayloadSigner
    let logger: Logger
    let metricsFactory: any MetricsFactory
    /// Pauses after a 429 the client's own retries did not get past (doubling up to 60 s).
    var rateLimitPause: Duration = .seconds(1)
    var maxRateLimitPauses = 8
    var now: @Sendable () -> Date = { Date() }

    static let pageSize = 100
    /// Stars transactions read per run at most (a listing in chronological order is read to its end).
    static let maxStarTransactions = 100_000

    init(config: AppConfig, dependencies: AppDependencies) {
        pool = dependencies.pool
        stripe = StripeClientFactory.make(config: config, dependencies: dependencies)
        stripeProcessor = StripeWebhookRoutes.makeProcessor(config: config, dependencies: dependencies)
        bot = TelegramWebhookRoutes.makeBotClient(config: config, dependencies: dependencies)
        signer = StarsInvoicePayloadSigner(botToken: config.telegramBotToken)
        logger = dependencies.logger
        metricsFactory = dependencies.metrics.factory
        now = dependencies.clock.now
    }

    /// One run for one provider over `[since, now]`.
    /// - Parameters:
    ///   - waitForLock: wait for a run of another instance to end (the CLI) instead of skipping (the periodic run).
    ///   - dryRun: apply nothing, write nothing (no run row); report what would be recovered.
    func run(_ provider: ReconcileProvider, since: Date, dryRun: Bool, waitForLock: Bool) async throws -> ReconcileReport {
        let end = now()
        var logger = self.logger
        logger[metadataKey: "provider"] = "\(provider.rawValue)"
        if dryRun { return try await work(provider, since: since, dryRun: true, logger: logger) }
        let lock = try await ReconcileLock.acquire(
            conninfo: pool.configuration.conninfo, key: provider.lockKey, wait: waitForLock)
        guard let lock else {
            logger.info("reconciliation skipped: another instance is running it")
            return ReconcileReport(provider: provider, skipped: true)
        }
        defer { lock.release() }
        let runID = try await pool.withConnection { connection in
            try await connection.query(
                """
                INSERT INTO reconcile_runs (provider, window_start, window_end)
                VALUES (\(provider.rawValue), \(since), \(end)) RETURNING id
                """
            ).first?.decode("id", as: Int64.self)
        }
        let report: ReconcileReport
        do {
            report = try await work(provider, since: since, dryRun: false, logger: logger)
        } catch {
            if let runID {
                _ = try? await pool.withConnection { connection in
                    try await connection.execute(
                        "UPDATE reconcile_runs SET failed = failed + 1, finished_at = now() WHERE id = \(runID)")
                }
            }
            throw error
        }
        if let runID {
            try await pool.withConnection { connection in
                try await connection.execute(
                    """
                    UPDATE reconcile_runs SET seen = \(report.seen), recovered = \(report.recovered),
                        failed = \(report.failed), finished_at = now()
                    WHERE id = \(runID)
                    """)
            }
        }
        let dimensions = [("provider", provider.rawValue)]
        if report.recovered > 0 {
            Counter(label: "reconcile_recovered_total", dimensions: dimensions, factory: metricsFactory)
                .increment(by: report.recovered)
            logger.warning(
                "reconciliation recovered payments whose webhooks never arrived",
                metadata: ["recovered": "\(report.recovered)", "seen": "\(report.seen)"])
        }
        if report.failed == 0 {
            Gauge(label: "reconcile_last_success_timestamp_seconds", dimensions: dimensions, factory: metricsFactory)
                .record(end.timeIntervalSince1970)
        } else {
            logger.error("reconciliation left payments it could not apply", metadata: ["failed": "\(report.failed)"])
        }
        return report
    }

    private func work(_ provider: ReconcileProvider, since: Date, dryRun: Bool, logger: Logger) async throws
        -> ReconcileReport
    {
        switch provider {
        case .stripe: try await reconcileStripe(since: since, dryRun: dryRun, logger: logger)
        case .telegramStars: try await reconcileStars(since: since, dryRun: dryRun, logger: logger)
        }
    }

    /// Ledger event ids of `provider` among `ids`.
    private func known(_ provider: PaymentProvider, _ ids: [String]) async throws -> Set<String> {
        guard !ids.isEmpty else { return [] }
        return try await pool.withConnection { connection in
            Set(
                try await connection.query(
                    """
                    SELECT event_id FROM payment_events
                    WHERE provider = \(provider.rawValue) AND event_id = ANY(\(ids)::text[])
                    """
                ).map { try $0.decode("event_id", as: String.self) })
        }
    }

    // MARK: - Stripe

    private func reconcileStripe(since: Date, dryRun: Bool, logger: Logger) async throws -> ReconcileReport {
        var report = ReconcileReport(provider: .stripe)
        guard let stripe else {
            logger.error("Stripe reconciliation needs STRIPE_API_KEY")
            report.failed = 1
            return report
        }
        let types = StripeEventType.handled.map(\.rawValue).sorted()
        var events: [(event: StripeEvent, raw: Data)] = []
        var startingAfter: String?
        do {
            while true {
                let page = try await withRateLimitPauses(logger: logger) {
                    try await stripe.events(
                        createdSince: Int64(since.timeIntervalSince1970.rounded(.down)), types: types,
                        limit: Self.pageSize, startingAfter: startingAfter)
                }
                for raw in page.rawEvents {
                    do {
                        events.append((try StripeEvent(decoding: raw), raw))
                    } catch {
                        report.failed += 1
                        logger.error("Stripe listed an event that does not decode", metadata: ["error": "\(error)"])
                    }
                }
                guard page.hasMore, let last = events.last?.event.id, last != startingAfter else { break }
                startingAfter = last
            }
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            logger.error("Stripe event list failed", metadata: ["error": "\(error)"])
            report.failed += 1
        }
        report.seen = events.count
        // Stripe lists newest first; apply in the order they happened.
        events.reverse()
        if dryRun {
            let known = try await known(.stripe, events.map(\.event.id))
            report.recovered = events.count(where: { !known.contains($0.event.id) })
            return report
        }
        for (event, raw) in events {
            try Task.checkCancellation()
            do {
                switch try await stripeProcessor.receive(event, rawBody: String(decoding: raw, as: UTF8.self)) {
                case .processed, .ignored:
                    report.recovered += 1
                    logger.info(
                        "Stripe event recovered", metadata: ["event_id": "\(event.id)", "event_type": "\(event.type.rawValue)"])
                case .duplicate: break
                case .failed: report.failed += 1  // stored; the retry worker takes it from here
                }
            } catch {
                report.failed += 1
                logger.error("Stripe event could not be stored", metadata: ["event_id": "\(event.id)", "error": "\(error)"])
            }
        }
        return report
    }

    /// Runs `body` again after a pause when Stripe still answers 429 after the client's own retries.
    private func withRateLimitPauses<T: Sendable>(logger: Logger, _ body: () async throws -> T) async throws -> T {
        var pause = rateLimitPause
        var pauses = 0
        while true {
            do {
                return try await body()
            } catch let error as StripeAPIError where error.kind == .rateLimit && pauses < maxRateLimitPauses {
                pauses += 1
                logger.warning("Stripe rate limit during reconciliation; pausing", metadata: ["pause": "\(pause)"])
                try await Task.sleep(for: pause)
                pause = min(pause * 2, .seconds(60))
            }
        }
    }

    // MARK: - Telegram Stars

    /// A transaction reconciliation cares about.
    private enum StarsItem {
        case payment(StarTransaction, user: TelegramUser, payload: String)
        case refund(StarTransaction)

        var eventID: String {
            switch self {
            case .payment(let transaction, _, _): transaction.id
            case .refund(let transaction): StarsLedger.refundEventID(transaction.id)
            }
        }
    }

    private func reconcileStars(since: Date, dryRun: Bool, logger: Logger) async throws -> ReconcileReport {
        var report = ReconcileReport(provider: .telegramStars)
        let sinceSeconds = Int64(since.timeIntervalSince1970.rounded(.down))
        var items: [(date: Int64, item: StarsItem)] = []
        var offset = 0
        do {
            while true {
                try Task.checkCancellation()
                let page = try await bot.getStarTransactions(
                    GetStarTransactionsRequest(offset: offset, limit: Self.pageSize)
                ).transactions
                for transaction in page where transaction.date >= sinceSeconds {
                    if let item = Self.item(transaction) { items.append((transaction.date, item)) }
                }
                offset += page.count
                guard page.count == Self.pageSize else { break }
                // The Bot API documents chronological order; bots have also seen the newest listed first. Only a walk
                // that goes back in time may stop at a page entirely before the window; one that goes forward reads
                // on to the last page (bounded).
                let goesBack = (page.first?.date ?? 0) > (page.last?.date ?? 0)
                if goesBack, !page.contains(where: { $0.date >= sinceSeconds }) { break }
                guard offset < Self.maxStarTransactions else {
                    logger.warning("getStarTransactions: stopped after \(offset) transactions", metadata: ["offset": "\(offset)"])
                    break
                }
            }
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            logger.error("getStarTransactions failed", metadata: ["error": "\(error)"])
            report.failed += 1
        }
        report.seen = items.count
        // Oldest first, whichever way Telegram listed them (a refund after its payment).
        let newestFirst = (items.first?.date ?? 0) > (items.last?.date ?? 0)
        let ordered = (newestFirst ? Array(items.reversed()) : items).map(\.item)
        let known = try await known(.telegramStars, ordered.map(\.eventID))
        let paymentMetrics = TelegramPaymentMetrics(factory: metricsFactory)
        for item in ordered where !known.contains(item.eventID) {
            try Task.checkCancellation()
            do {
                let outcome: StarsLedgerOutcome
                switch item {
                case .payment(let transaction, let user, let payload):
                    guard let payment = try await resolve(transaction, user: user, payload: payload) else {
                        report.failed += 1
                        logger.error(
                            "Stars payment found by reconciliation has an unverifiable invoice payload",
                            metadata: ["charge_id": "\(transaction.id)"])
                        continue
                    }
                    if dryRun {
                        report.recovered += 1
                        continue
                    }
                    outcome = try await pool.transaction { tx in try await StarsLedger.applyPayment(tx, payment) }
                    if case .applied = outcome { paymentMetrics.paid(amount: payment.totalAmount, currency: payment.currency) }
                case .refund(let transaction):
                    if dryRun {
                        report.recovered += 1
                        continue
                    }
                    let raw = Self.rawJSON(transaction)
                    outcome = try await pool.transaction { tx in
                        try await StarsLedger.applyRefund(tx, chargeID: transaction.id, actor: .telegramStars, rawJSON: raw)
                    }
                }
                if outcome != .duplicate {
                    report.recovered += 1
                    logger.info("Stars transaction recovered", metadata: ["event_id": "\(item.eventID)"])
                }
            } catch {
                report.failed += 1
                logger.error(
                    "Stars transaction could not be applied", metadata: ["event_id": "\(item.eventID)", "error": "\(error)"])
            }
        }
        return report
    }

    /// An incoming payment by a user with an invoice payload, or an outgoing refund to a user.
    private static func item(_ transaction: StarTransaction) -> StarsItem? {
        if let source = transaction.source, source.type == "user", let user = source.user,
            let payload = source.invoicePayload,
            source.transactionType == nil || source.transactionType == "invoice_payment"
        {
            return .payment(transaction, user: user, payload: payload)
        }
        if let receiver = transaction.receiver, receiver.type == "user", transaction.source == nil,
            receiver.transactionType == nil || receiver.transactionType == "invoice_payment"
        {
            return .refund(transaction)
        }
        return nil
    }

    /// The payment as the webhook would have built it: the plan from the subscription recorded at a renewal's first
    /// payment, otherwise from the signed invoice payload.
    private func resolve(_ transaction: StarTransaction, user: TelegramUser, payload: String) async throws -> StarsPayment? {
        let renewal: StarsSubscription? =
            if transaction.source?.subscriptionPeriod != nil {
                try await pool.withConnection { connection in
                    try await StarsLedger.subscription(connection, telegramUserID: user.id, invoicePayload: payload)
                }
            } else {
                nil
            }
        let plan = renewal?.plan ?? (try? signer.verify(payload, expectedTelegramUserID: user.id, maxAge: nil))?.plan
        guard let plan else { return nil }
        let paidAt = Date(timeIntervalSince1970: TimeInterval(transaction.date))
        let expiration = transaction.source?.subscriptionPeriod.map { paidAt.addingTimeInterval(TimeInterval($0)) }
        return StarsPayment(
            profile: TelegramUpdateDispatcher.profile(user), chargeID: transaction.id, currency: "XTR",
            totalAmount: Int64(transaction.amount), plan: plan, subscriptionExpiration: expiration,
            rawJSON: Self.rawJSON(transaction), paidAt: paidAt, invoicePayload: payload,
            subscriptionFirstChargeID: renewal?.firstChargeID)
    }

    /// What the ledger stores for a recovered transaction: `{"star_transaction": …}` as `getStarTransactions` gave it.
    private static func rawJSON(_ transaction: StarTransaction) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let body = (try? encoder.encode(transaction)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
        return #"{"star_transaction":"# + body + "}"
    }
}

/// A transaction-scoped advisory lock held for the length of a run, in a transaction kept open on a connection of its own (a
/// pool connection would go back to the pool between statements). The lock ends with that transaction, also when the process dies.
final class ReconcileLock: Sendable {
    private let connection: PGConnection

    private init(connection: PGConnection) {
        self.connection = connection
    }

    /// Takes a transaction-scoped advisory lock in a transaction held open for the run, on a connection of its own.
    /// A session lock would not survive PgBouncer in transaction mode (it stays on whichever server connection ran
    /// the statement, so two instances could both "hold" it); an open transaction keeps its server connection, and
    /// the lock ends with it — also when the process dies and the connection drops.
    /// - Parameter wait: poll every second until free (cancellable) instead of giving up at once.
    /// - Returns: the held lock, or nil when another instance holds it and `wait` is false.
    static func acquire(conninfo: String, key: Int64, wait: Bool) async throws -> ReconcileLock? {
        let connection = try await PGConnection.connect(conninfo: conninfo)
        do {
            while true {
                try await connection.unsafeExecute("BEGIN")
                let locked = try await connection.query("SELECT pg_try_advisory_xact_lock(\(key)) AS locked").first?
                    .decode("locked", as: Bool.self) ?? false
                if locked { return ReconcileLock(connection: connection) }
                try await connection.unsafeExecute("ROLLBACK")
                guard wait else {
                    connection.close()
                    return nil
                }
                try await Task.sleep(for: .seconds(1))
            }
        } catch {
            connection.close()
            throw error
        }
    }

    /// Ends the session: the server rolls the transaction back and the lock with it.
    func release() {
        connection.close()
    }
}
