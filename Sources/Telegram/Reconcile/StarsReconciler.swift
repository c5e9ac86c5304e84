import Billing
import CoreMetrics
import Foundation
import Logging
import PGClient

/// Finds Stars payments and refunds whose updates never arrived: `getStarTransactions` over the window, each
/// through `StarsLedger.applyPayment` / `applyRefund` (one ledger row per charge), the plan decided as the webhook
/// decides it. Keeps nothing in memory between runs: each run reads its whole window again, and the ledger decides
/// what is new.
public struct StarsReconciler: Sendable {
    let pool: PGPool
    let bot: BotAPIClient
    let signer: StarsInvoicePayloadSigner
    let metricsFactory: any MetricsFactory

    static let pageSize = 100
    /// Stars transactions read per run at most (a listing in chronological order is read to its end).
    static let maxStarTransactions = 100_000

    /// - Parameters:
    ///   - pool: the ledger's database.
    ///   - bot: the Bot API client (`getStarTransactions`).
    ///   - signer: checks the invoice payloads of first payments.
    ///   - metricsFactory: where recovered payments are counted (`telegram_payments_total`).
    public init(pool: PGPool, bot: BotAPIClient, signer: StarsInvoicePayloadSigner, metricsFactory: any MetricsFactory) {
        self.pool = pool
        self.bot = bot
        self.signer = signer
        self.metricsFactory = metricsFactory
    }

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

    /// Applies the payments and refunds of `[since, now]` that the ledger lacks.
    /// - Parameters:
    ///   - since: the window's start.
    ///   - dryRun: apply nothing; count what would be applied.
    ///   - logger: the run's logger.
    public func reconcile(since: Date, dryRun: Bool, logger: Logger) async throws -> ReconcileReport {
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
        let known = try await ReconcileLedger.known(pool, .telegramStars, ordered.map(\.eventID))
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
            profile: user.profile, chargeID: transaction.id, currency: TelegramStars.currency,
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
