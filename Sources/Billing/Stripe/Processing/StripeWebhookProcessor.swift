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
    let paymentValue: CounterFamily

    let metricsFactory: (any MetricsFactory)?
    /// Settings of the handlers (past-due grace).
    public let options: StripeHandlingOptions
    /// Finds the invoice a payment intent paid (Stripe's `invoice_payments`), for refunds and disputes whose charge
    /// does not name its invoice; nil when no Stripe client is configured.
    let invoiceLookup: (@Sendable (String) async throws -> String?)?

    public init(
        pool: PGPool, logger: Logger, retryBase: Duration = .seconds(30), maxAttempts: Int = 8,
        metricsFactory: (any MetricsFactory)? = nil, options: StripeHandlingOptions = .init(),
        invoiceLookup: (@Sendable (String) async throws -> String?)? = nil
    ) {
        self.pool = pool
        self.logger = logger
        self.retryBase = retryBase
        self.maxAttempts = maxAttempts
        self.metricsFactory = metricsFactory
        self.options = options
        self.invoiceLookup = invoiceLookup
        self.paymentValue = CounterFamily(label: "billing_payment_value_total", dimension: "currency", factory: metricsFactory)
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
        // The typed object was decoded with the envelope (one parse of the body), so no JSON work happens while a pool connection and the claimed row are
        // held. A decoding error is raised only after the claim, as the handler would: a duplicate stays a duplicate
        // and a new event is stored as failed.
        let object = event.typedObject()
        do {
            let extraRefs = try await invoiceRefs(for: try? object.get())
            let options = self.options
            // The plan lookup the handler starts with goes out with the claim: one round trip for both.
            let planLookup = event.type.isHandled ? (try? object.get())?.planLookup : nil
            let (outcome, effect) = try await pool.transaction { tx -> (Outcome, StripeEffect) in
                let claimed = try await PaymentLedger.claim(
                    tx, provider: .stripe, eventID: event.id, eventType: event.type.rawValue, payload: payload,
                    eventCreated: event.createdAt, alongside: planLookup)
                guard let row = claimed.row else {
                    // Nothing written: end the transaction without waiting for the answer (one round trip in all).
                    tx.rollbackWithoutWaiting()
                    return (.duplicate, .none)
                }
                guard event.type.isHandled else {
                    try await PaymentLedger.setStatus(tx, id: row, status: .ignored)
                    return (.ignored, .none)
                }
                let plan = try claimed.alongside.map { StripeEventHandler.PrefetchedPlan(plan: try $0.first.map(PlanStore.decode)) }
                let effect = try await StripeEventHandler.apply(
                    tx, event, object: object.get(), eventRow: row, options: options, extraRefs: extraRefs, plan: plan)
                if effect.changed { return (.processed, effect) }
                try await PaymentLedger.setStatus(tx, id: row, status: .ignored)
                return (.ignored, effect)
            }
            count(event.type, effect)
            return outcome
        } catch let error as PGError where !error.isStatementError {
            // A statement of ours refused (constraints, bad data) is a handler failure, stored for a retry below; a
            // lost connection or an exhausted pool means the event cannot be stored at all.
            logger.error("Stripe event not stored: database unavailable", metadata: ["error": "\(error)"])
            throw error
        } catch {
            logger.warning("Stripe event failed; stored for retry", metadata: ["error": "\(error)"])
            let recorded = try await pool.withConnection { connection in
                try await PaymentLedger.recordFailure(
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
        let options = self.options
        let (lookedUp, extraRefs) = try await refsBeforeRetry(id: id)
        let attempt = try await pool.transaction { tx -> (LockedPaymentEvent, Result<StripeEffect, any Error>)? in
            let locked: LockedPaymentEvent? =
                if let id {
                    try await PaymentLedger.lockForRetry(tx, id: id)
                } else {
                    try await PaymentLedger.lockNextDue(tx, provider: .stripe)
                }
            guard let locked, locked.provider == .stripe else { return nil }
            do {
                let event = try StripeEvent(decoding: Data(locked.payload.utf8))
                try await tx.unsafeExecute("SAVEPOINT reprocess")
                do {
                    let effect = try await StripeEventHandler.apply(
                        tx, event, eventRow: locked.id, options: options,
                        extraRefs: locked.id == lookedUp ? extraRefs : [])
                    try await PaymentLedger.markReprocessed(tx, id: locked.id, changed: effect.changed)
                    return (locked, .success(effect))
                } catch let error as PGError where !error.isStatementError {
                    throw error
                } catch {
                    try await tx.unsafeExecute("ROLLBACK TO SAVEPOINT reprocess")
                    try await PaymentLedger.markAttemptFailed(
                        tx, id: locked.id, error: "\(error)", base: retryBase, maxAttempts: maxAttempts)
                    return (locked, .failure(error))
                }
            } catch let error as StripeEventDecodingError {
                try await PaymentLedger.markAttemptFailed(tx, id: locked.id, error: "\(error)", base: retryBase, maxAttempts: 1)
                return (locked, .failure(error))
            }
        }
        guard let (locked, result) = attempt else { return nil }
        switch result {
        case .success(let effect):
            logger.info("Stripe event reprocessed", metadata: ["event_id": "\(locked.eventID)", "changed": "\(effect.changed)"])
            // A payment applied by a retry counts once, like one applied on receipt.
            count(StripeEventType(rawValue: locked.eventType), effect)
            return (locked.id, effect.changed ? .processed : .ignored)
        case .failure(let error):
            logger.warning(
                "Stripe event retry failed",
                metadata: [
                    "event_id": "\(locked.eventID)", "attempt": "\(locked.attempts + 1)",
                    "error": "\(error)",
                ])
            return (locked.id, .failed)
        }
    }

    /// The invoice refs of the event a retry is about to reprocess (the one asked for, or the next due), found
    /// before its transaction.
    private func refsBeforeRetry(id: Int64?) async throws -> (Int64?, [String]) {
        guard invoiceLookup != nil else { return (nil, []) }
        let peeked = try await pool.withConnection { connection -> (Int64, String)? in
            let query: PGQuery =
                if let id {
                    "SELECT id, payload::text AS payload, raw_body FROM payment_events WHERE id = \(id)"
                } else {
                    """
                    SELECT id, payload::text AS payload, raw_body FROM payment_events
                    WHERE status = 'failed' AND provider = 'stripe' AND next_attempt_at <= now()
                    ORDER BY next_attempt_at, id LIMIT 1
                    """
                }
            guard let row = try await connection.query(query).first else { return nil }
            return (try row.decode("id", as: Int64.self), try PaymentLedger.storedBody(row))
        }
        guard let (rowID, payload) = peeked, let event = try? StripeEvent(decoding: Data(payload.utf8)) else {
            return (nil, [])
        }
        // A lookup that fails fails the retry: applying the refund without its invoice would miss the grant.
        return (rowID, try await invoiceRefs(for: try? StripeEventObject(event)))
    }

    /// Payments count once: when their grant was first made (whichever event reported the payment), never for a
    /// subscription's checkout session; failures per failed invoice event.
    private func count(_ type: StripeEventType, _ effect: StripeEffect) {
        if let paid = effect.paid {
            paymentsSuccess.increment()
            paymentValue.counter(paid.currency).increment(by: Int(clamping: paid.amount))
        } else if type == .invoicePaymentFailed, effect.changed {
            paymentsFailed.increment()
        }
    }

    /// The invoice behind a refunded or disputed charge that does not name it (API versions from 2025-03-31), asked
    /// of Stripe before the transaction when no grant already carries the charge's payment intent.
    func invoiceRefs(for object: StripeEventObject?) async throws -> [String] {
        let paymentIntent: String?
        switch object {
        case .charge(let charge) where charge.invoice == nil: paymentIntent = charge.paymentIntent
        case .dispute(let dispute): paymentIntent = dispute.paymentIntent
        default: paymentIntent = nil
        }
        guard let paymentIntent, let invoiceLookup else { return [] }
        let ref = GrantRef.paymentIntent(paymentIntent)
        let known = try await pool.withConnection { connection in
            try await connection.query("SELECT 1 FROM entitlement_grants WHERE refs @> ARRAY[\(ref)]::text[] LIMIT 1").first != nil
        }
        guard !known else { return [] }
        return try await invoiceLookup(paymentIntent).map { [GrantRef.invoice($0)] } ?? []
    }
}
