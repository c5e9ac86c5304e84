import Foundation
import Logging
import PGClient

/// An operator's refund of a Stripe payment, exactly once: claim the intent (its own transaction, keyed by the
/// payment, so concurrent requests make one `POST /v1/refunds`), call Stripe outside any transaction with an
/// idempotency key, then record the refund through the `charge.refunded` path in one transaction. A failed call is
/// recorded so a later request may retry; Stripe answering `charge_already_refunded` means an earlier call went
/// through, and the books are brought in line.
public struct StripeAdminRefund: Sendable {
    let pool: PGPool
    let stripe: StripeClient

    public init(pool: PGPool, stripe: StripeClient) {
        self.pool = pool
        self.stripe = stripe
    }

    /// What a refund request achieved.
    public struct Outcome: Sendable {
        public var target: StripeRefundIntents.Target
        /// The Stripe refund (nil when the payment had been refunded before this request).
        public var refund: StripeRefund?
        /// True when the refund had been recorded before this request.
        public var already: Bool
        /// Each (plan, status) the refund changed, or, when it changed nothing, the user's current ones.
        public var entitlements: [(plan: String, status: String)]
    }

    /// Refunds the payment `ref` (`in:<invoice>` or `pi:<payment intent>`) names.
    public func refund(ref: String, reason: String?, requestedBy: String, logger: Logger) async throws -> Outcome {
        let claim = try await pool.transaction { tx in
            try await StripeRefundIntents.claim(tx, ref: ref, reason: reason, requestedBy: requestedBy)
        }
        switch claim {
        case .unknownPayment:
            throw StripeAdminRefundError.unknownPayment
        case .inProgress:
            throw StripeAdminRefundError.inProgress
        case .alreadyRefunded(let target):
            return Outcome(target: target, refund: nil, already: true, entitlements: try await current(target))
        case .callProvider(let target, let attempt):
            let refund = try await callProvider(target: target, attempt: attempt, reason: reason, logger: logger)
            return try await record(target: target, refund: refund, reason: reason, requestedBy: requestedBy, logger: logger)
        }
    }

    /// The one `POST /v1/refunds` of this attempt. Any failure (cancellation included) releases the intent.
    private func callProvider(
        target: StripeRefundIntents.Target, attempt: Int, reason: String?, logger: Logger
    ) async throws -> StripeRefund {
        do {
            var paymentIntent = target.paymentIntent
            var charge = target.charge
            if paymentIntent == nil, charge == nil, target.ref.hasPrefix("in:") {
                let payment = try await stripe.paymentOfInvoice(String(target.ref.dropFirst(3)))
                paymentIntent = payment.paymentIntent
                charge = payment.charge
            }
            guard paymentIntent != nil || charge != nil else { throw StripeAdminRefundError.noPayment }
            return try await stripe.createRefund(
                paymentIntent: paymentIntent, charge: charge, reason: reason,
                metadata: ["telebot_payment": target.ref, "telebot_user_id": "\(target.userID)"],
                idempotencyKey: "telebot-refund-\(target.ref)-\(attempt)")
        } catch let error as StripeAPIError where error.code == "charge_already_refunded" {
            logger.notice("Stripe says the payment was already refunded; recording the refund")
            return StripeRefund(
                id: "already:\(target.ref)", amount: target.amount ?? 0, currency: target.currency ?? "",
                status: "succeeded", charge: target.charge, paymentIntent: target.paymentIntent)
        } catch {
            await release(ref: target.ref, error: "\(error)", logger: logger)
            if let error = error as? StripeAPIError { throw StripeAdminRefundError.provider(error) }
            throw error
        }
    }

    /// Ledger row, tombstones, grants and audit in one transaction, after Stripe refunded.
    private func record(
        target: StripeRefundIntents.Target, refund: StripeRefund, reason: String?, requestedBy: String, logger: Logger
    ) async throws -> Outcome {
        let payload = Self.payload(target: target, refund: refund, reason: reason, requestedBy: requestedBy)
        do {
            let changed = try await pool.transaction { tx in
                try await StripeRefundIntents.record(
                    tx, target: target, refund: refund, reason: reason, requestedBy: requestedBy, payload: payload)
            }
            let entitlements = changed.isEmpty ? try await current(target) : changed.map { ($0.plan, $0.state.status.rawValue) }
            return Outcome(target: target, refund: refund, already: changed.isEmpty, entitlements: entitlements)
        } catch {
            // Stripe has refunded, the books do not say so yet: release the intent, so the next request calls
            // again (Stripe answers with the refund stored for the key, or charge_already_refunded) and records it.
            logger.error(
                "Stripe refund done but not recorded; a new request will record it",
                metadata: ["payment": "\(target.ref)", "refund_id": "\(refund.id)", "error": "\(error)"])
            await release(ref: target.ref, error: "refunded at Stripe (\(refund.id)); recording failed", logger: logger)
            throw error
        }
    }

    /// Marks the intent failed, even when the request's task is being cancelled (a new task does not inherit it).
    private func release(ref: String, error: String, logger: Logger) async {
        let pool = self.pool
        let released = await Task {
            try await pool.transaction { tx in try await StripeRefundIntents.markFailed(tx, ref: ref, error: error) }
        }.result
        if case .failure(let failure) = released {
            logger.error("could not release the Stripe refund intent", metadata: ["payment": "\(ref)", "error": "\(failure)"])
        }
    }

    /// The user's entitlements to the plans the payment's grants are for.
    private func current(_ target: StripeRefundIntents.Target) async throws -> [(plan: String, status: String)] {
        try await pool.withConnection { connection in
            try await StripeRefundIntents.entitlements(connection, of: target).map { ($0.plan, $0.status) }
        }
    }

    /// What the ledger keeps as the refund event's payload.
    static func payload(target: StripeRefundIntents.Target, refund: StripeRefund, reason: String?, requestedBy: String) -> String {
        let object: [String: Any] = [
            "source": "admin", "payment": target.ref, "refund_id": refund.id, "amount": refund.amount,
            "currency": refund.currency, "status": refund.status, "reason": reason ?? NSNull(), "requested_by": requestedBy,
        ]
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }
}

/// Stripe refund requests that end without a refund.
public enum StripeAdminRefundError: Error, Sendable {
    case unknownPayment
    case inProgress
    /// Stripe could name no payment intent or charge for the invoice.
    case noPayment
    case provider(StripeAPIError)
}
