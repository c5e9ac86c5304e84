import Foundation
import PGClient

/// Operators' refunds of Stripe payments: the intent is recorded (keyed by the payment the operator named) before
/// `POST /v1/refunds` is called, so concurrent requests make exactly one call; the refund is then recorded through
/// the same grant path as `charge.refunded`.
public enum StripeRefundIntents {
    /// The payment a refund request names, as the books know it.
    public struct Target: Sendable, Equatable {
        /// `in:<invoice>` or `pi:<payment intent>`: the intent's key.
        public var ref: String
        /// The buyer (`users.id`).
        public var userID: Int64
        /// Every ref of the payment's grants (`in:`, `pi:`, `ch:`, `cs:`), the named one included.
        public var refs: [String]
        /// The payment intent or charge to refund, when the books know one (else ask Stripe from the invoice).
        public var paymentIntent: String?
        public var charge: String?
        /// Amount and currency of its invoice row, when there is one.
        public var amount: Int64?
        public var currency: String?
    }

    /// What a refund request found.
    public enum Claim: Sendable, Equatable {
        /// This request owns the call; `attempt` numbers it (part of the Stripe idempotency key).
        case callProvider(Target, attempt: Int)
        /// Another request is calling (or called) Stripe for this payment right now.
        case inProgress
        /// The payment is refunded already (by an earlier request or a `charge.refunded` webhook).
        case alreadyRefunded(Target)
        /// No Stripe payment with this id in the books.
        case unknownPayment
    }

    /// How long a `requested` intent belongs to the request that claimed it: longer than any Stripe call with
    /// its retries. After it, the owner is presumed dead and another request may call again.
    public static let claimLease = 120

    /// Finds the payment `ref` names: its grants (by ref), else a Stripe invoice row with that id.
    public static func target(_ connection: PGConnection, ref: String) async throws -> Target? {
        let grants = try await connection.query(
            """
            SELECT user_id, array_to_string(refs, ' ') AS refs_text FROM entitlement_grants
            WHERE refs && ARRAY[\(ref)]::text[] AND source = 'stripe' ORDER BY id
            """)
        let providerID = String(ref.dropFirst(3))
        let invoice = try await connection.query(
            """
            SELECT user_id, amount, currency FROM invoices
            WHERE provider = 'stripe' AND provider_invoice_id = \(providerID)
            """
        ).first
        guard let userID: Int64 = try grants.first?.decode("user_id") ?? invoice?.decode("user_id") else { return nil }
        var refs = [ref]
        for row in grants {
            for item in try row.decode("refs_text", as: String.self).split(separator: " ") where !refs.contains(String(item)) {
                refs.append(String(item))
            }
        }
        func first(_ prefix: String) -> String? { refs.first { $0.hasPrefix(prefix) }.map { String($0.dropFirst(3)) } }
        return Target(
            ref: ref, userID: userID, refs: refs, paymentIntent: first("pi:"), charge: first("ch:"),
            amount: try invoice?.decode("amount"), currency: try invoice?.decode("currency"))
    }

    /// Claims the refund of the payment `ref` names. Run in its own transaction, before calling Stripe.
    public static func claim(_ tx: PGConnection, ref: String, reason: String?, requestedBy: String) async throws -> Claim {
        guard let target = try await target(tx, ref: ref) else { return .unknownPayment }
        let tombstoned = try await tx.query("SELECT 1 FROM payment_refunds WHERE ref = ANY(\(target.refs)::text[])").first != nil
        if tombstoned { return .alreadyRefunded(target) }
        let attempt = try await tx.query(
            """
            INSERT INTO stripe_refunds AS r (payment_ref, user_id, reason, requested_by)
            VALUES (\(ref), \(target.userID), \(reason), \(requestedBy))
            ON CONFLICT (payment_ref) DO UPDATE
                SET status = 'requested', attempt = r.attempt + 1, requested_by = EXCLUDED.requested_by,
                    reason = EXCLUDED.reason, last_error = NULL, claimed_at = now()
                WHERE r.status = 'failed'
                   OR (r.status = 'requested' AND r.claimed_at < now() - make_interval(secs => \(claimLease)))
            RETURNING attempt
            """
        ).first?.decode("attempt", as: Int.self)
        if let attempt { return .callProvider(target, attempt: attempt) }
        let status = try await tx.query("SELECT status FROM stripe_refunds WHERE payment_ref = \(ref)").first?
            .decode("status", as: String.self)
        return status == "refunded" ? .alreadyRefunded(target) : .inProgress
    }

    /// Records a failed Stripe call so a later request may try again (with the next attempt's key).
    public static func markFailed(_ connection: PGConnection, ref: String, error: String) async throws {
        try await connection.execute(
            """
            UPDATE stripe_refunds SET status = 'failed', last_error = \(String(error.prefix(500)))
            WHERE payment_ref = \(ref) AND status = 'requested'
            """)
    }

    /// After Stripe refunded: a ledger row for the refund, then the `charge.refunded` path (tombstones on every ref
    /// of the payment, its grants refunded and their (user, plan) recomputed with an admin audit row), and the
    /// intent marked done. A redelivered `charge.refunded` later finds the grants refunded and changes nothing.
    /// - Returns: the recomputed entitlements (empty when the grants had been refunded already).
    public static func record(
        _ tx: PGConnection, target: Target, refund: StripeRefund, reason: String?, requestedBy: String, payload: String
    ) async throws -> [GrantStore.Recomputed] {
        let eventID = try await PaymentLedger.claim(
            tx, provider: .stripe, eventID: "admin_refund:" + refund.id, eventType: "admin.refund",
            payload: PGRawJSON(payload))
        var refs = target.refs
        for extra in [refund.charge.map(GrantRef.charge), refund.paymentIntent.map(GrantRef.paymentIntent)]
        where extra != nil && !refs.contains(extra ?? "") {
            refs.append(extra ?? "")
        }
        try await GrantStore.lockPayments(tx, refs: refs)
        let recomputed = try await GrantStore.refund(
            tx, refs: refs,
            cause: ChangeCause(
                actor: .admin, reason: "admin Stripe refund \(refund.id) (\(reason ?? "no reason given")) by \(requestedBy)",
                paymentEventID: eventID))
        try await tx.execute(
            """
            UPDATE stripe_refunds SET status = 'refunded', refund_id = \(refund.id), completed_at = now(), last_error = NULL
            WHERE payment_ref = \(target.ref)
            """)
        return recomputed
    }

    /// The buyer's entitlement (plan, status) to each plan the payment's grants are for.
    public static func entitlements(_ connection: PGConnection, of target: Target) async throws -> [(plan: String, status: String)] {
        try await connection.query(
            """
            SELECT DISTINCT e.plan, e.status FROM user_entitlements e
            JOIN entitlement_grants g ON g.user_id = e.user_id AND g.plan = e.plan
            WHERE e.user_id = \(target.userID) AND g.refs && \(target.refs)::text[]
            ORDER BY e.plan
            """
        ).map { (try $0.decode("plan", as: String.self), try $0.decode("status", as: String.self)) }
    }
}
