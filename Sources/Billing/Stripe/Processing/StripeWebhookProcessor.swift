import Foundation
import Logging
import Metrics
import PGClient

/// Store-then-process for Stripe events: the ledger claim and every effect commit in ONE transaction. When the
/// handler fails, that transaction rolls back and the event is recorded as `failed` in a second one (we own the
/// retry, Stripe gets 200); only when even that cannot be stored does the caller answer 5xx so Stripe retries.
public struct StripeWebhookProcessor: Sendable {
    public enum Outcome: String, Sendable, Equatable {
        case processed, duplicate, ignored, failed
    }

    let pool: PGPool
    let logger: Logger
    /// First retry delay; doubles per attempt.
    public let retryBase: Duration
    /// Attempts before an event is `dead`.
    public let maxAttempts: Int
    let paymentsSuccess: Counter
    let paymentsFailed: Counter

    public init(
        pool: PGPool, logger: Logger, retryBase: Duration = .seconds(30), maxAttempts: Int = 8,
        metricsFactory: (any MetricsFactory)? = nil
    ) {
        self.pool = pool
        self.logger = logger
        self.retryBase = retryBase
        self.maxAttempts = maxAttempts
        if let metricsFactory {
            paymentsSuccess = Counter(label: "billing_payments_total", dimensions: [("status", "success")], factory: metricsFactory)
            paymentsFailed = Counter(label: "billing_payments_total", dimensions: [("status", "failed")], factory: metricsFactory)
        } else {
            paymentsSuccess = Counter(label: "billing_payments_total", dimensions: [("status", "success")])
            paymentsFailed = Counter(label: "billing_payments_total", dimensions: [("status", "failed")])
        }
    }

    /// Applies a verified, decoded event once.
    /// - Throws: only when the event could not be stored at all (the webhook then answers 503).
    public func receive(_ event: StripeEvent, rawBody: String) async throws -> Outcome {
        var logger = self.logger
        logger[metadataKey: "event_id"] = "\(event.id)"
        logger[metadataKey: "event_type"] = "\(event.type.rawValue)"
        let payload = PGRawJSON(rawBody)
        // The typed object is decoded here, so no JSON work happens while a pool connection and the claimed row are
        // held. A decoding error is raised only after the claim, as the handler would: a duplicate stays a duplicate
        // and a new event is stored as failed.
        let object = Result { () throws(StripeEventDecodingError) -> StripeEventObject in try StripeEventObject(event) }
        do {
            let outcome = try await pool.transaction { tx -> Outcome in
                guard
                    let row = try PaymentLedger.claim(
                        tx, provider: .stripe, eventID: event.id, eventType: event.type.rawValue, payload: payload,
                        eventCreated: event.createdAt)
                else { return .duplicate }
                guard event.type.isHandled else {
                    try PaymentLedger.setStatus(tx, id: row, status: .ignored)
                    return .ignored
                }
                if try StripeEventHandler.apply(tx, event, object: object.get(), eventRow: row) { return .processed }
                try PaymentLedger.setStatus(tx, id: row, status: .ignored)
                return .ignored
            }
            if outcome == .processed { countPayment(event.type) }
            return outcome
        } catch let error as PGError where !Self.isHandlerFailure(error) {
            logger.error("Stripe event not stored: database unavailable", metadata: ["error": "\(error)"])
            throw error
        } catch {
            logger.warning("Stripe event failed; stored for retry", metadata: ["error": "\(error)"])
            let recorded = try await pool.withConnection { connection in
                try PaymentLedger.recordFailure(
                    connection, provider: .stripe, eventID: event.id, eventType: event.type.rawValue, payload: payload,
                    eventCreated: event.createdAt, error: "\(error)", retryIn: retryBase)
            }
            // nil: a concurrent delivery of the same event processed (or ignored) it after our attempt rolled back.
            return recorded == nil ? .duplicate : .failed
        }
    }

    /// Reprocesses one failed event (the worker's or an operator's retry) in its own transaction.
    /// - Parameter id: a specific ledger row (operator), or nil for the next due one (worker).
    /// - Returns: the outcome, or nil when nothing was due or the row is not retryable.
    public func retry(id: Int64? = nil) async throws -> (id: Int64, outcome: Outcome)? {
        let attempt = try await pool.transaction { tx -> (LockedPaymentEvent, Result<Bool, any Error>)? in
            let locked = try id.map { try PaymentLedger.lockForRetry(tx, id: $0) }
                ?? PaymentLedger.lockNextDue(tx, provider: .stripe)
            guard let locked, locked.provider == .stripe else { return nil }
            do {
                let event = try StripeEvent(decoding: Data(locked.payload.utf8))
                try tx.unsafeExecute("SAVEPOINT reprocess")
                do {
                    let changed = try StripeEventHandler.apply(tx, event, eventRow: locked.id)
                    try PaymentLedger.markReprocessed(tx, id: locked.id, changed: changed)
                    return (locked, .success(changed))
                } catch let error as PGError where !Self.isHandlerFailure(error) {
                    throw error
                } catch {
                    try tx.unsafeExecute("ROLLBACK TO SAVEPOINT reprocess")
                    try PaymentLedger.markAttemptFailed(
                        tx, id: locked.id, error: "\(error)", base: retryBase, maxAttempts: maxAttempts)
                    return (locked, .failure(error))
                }
            } catch let error as StripeEventDecodingError {
                try PaymentLedger.markAttemptFailed(tx, id: locked.id, error: "\(error)", base: retryBase, maxAttempts: 1)
                return (locked, .failure(error))
            }
        }
        guard let (locked, result) = attempt else { return nil }
        switch result {
        case .success(let changed):
            logger.info("Stripe event reprocessed", metadata: ["event_id": "\(locked.eventID)", "changed": "\(changed)"])
            // A payment applied by a retry counts once, like one applied on receipt.
            if changed { countPayment(StripeEventType(rawValue: locked.eventType)) }
            return (locked.id, changed ? .processed : .ignored)
        case .failure(let error):
            logger.warning(
                "Stripe event retry failed", metadata: ["event_id": "\(locked.eventID)", "attempt": "\(locked.attempts + 1)",
                                                        "error": "\(error)"])
            return (locked.id, .failed)
        }
    }

    private func countPayment(_ type: StripeEventType) {
        switch type {
        case .invoicePaid, .invoicePaymentSucceeded, .checkoutSessionCompleted: paymentsSuccess.increment()
        case .invoicePaymentFailed: paymentsFailed.increment()
        default: break
        }
    }

    /// Server errors raised by our own statements (constraints, bad data) are handler failures to retry later;
    /// a lost connection or an exhausted pool means the event cannot be stored at all.
    static func isHandlerFailure(_ error: PGError) -> Bool {
        error.kind == .server && !error.isConnectionLost
    }
}
