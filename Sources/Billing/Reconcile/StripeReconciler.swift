import Foundation
import Logging
import PGClient

/// Finds Stripe payments whose webhooks never arrived: `GET /v1/events` over the window, each event through
/// `StripeWebhookProcessor.receive` (a known event id is a duplicate and changes nothing). Keeps nothing in memory
/// between runs: each run reads its whole window again, and the ledger decides what is new.
public struct StripeReconciler: Sendable {
    let pool: PGPool
    /// nil when `STRIPE_API_KEY` is unset: a run reports one failure.
    let stripe: StripeClient?
    let processor: StripeWebhookProcessor
    /// Pauses after a 429 the client's own retries did not get past (doubling up to 60 s).
    public var rateLimitPause: Duration = .seconds(1)
    public var maxRateLimitPauses = 8

    static let pageSize = 100

    /// - Parameters:
    ///   - pool: the ledger's database.
    ///   - stripe: the API client; nil when Stripe is not configured.
    ///   - processor: the webhooks' processor, which applies each event.
    public init(pool: PGPool, stripe: StripeClient?, processor: StripeWebhookProcessor) {
        self.pool = pool
        self.stripe = stripe
        self.processor = processor
    }

    /// Applies the events of `[since, now]` that the ledger lacks.
    /// - Parameters:
    ///   - since: the window's start.
    ///   - dryRun: apply nothing; count what would be applied.
    ///   - logger: the run's logger.
    public func reconcile(since: Date, dryRun: Bool, logger: Logger) async throws -> ReconcileReport {
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
            let known = try await ReconcileLedger.known(pool, .stripe, events.map(\.event.id))
            report.recovered = events.count(where: { !known.contains($0.event.id) })
            return report
        }
        for (event, raw) in events {
            try Task.checkCancellation()
            do {
                switch try await processor.receive(event, rawBody: String(decoding: raw, as: UTF8.self)) {
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
}
