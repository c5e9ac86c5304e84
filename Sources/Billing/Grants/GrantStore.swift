import Foundation
import PGClient

/// Grant changes inside the caller's transaction. Every change is followed by `recompute` of the (user, plan) it
/// touched, which rewrites `user_entitlements` under its row lock and appends the audit row.
///
/// Payments and their reversals (refunds, disputes) first take `lockPayments` on every id they name, so a refund
/// and its payment delivered at the same moment serialise: whichever commits second sees the other.
public enum GrantStore {
    /// Transaction-scoped advisory locks on the payment ids, in a fixed order (no deadlock between two lockers).
    public static func lockPayments(_ tx: PGConnection, refs: [String]) async throws {
        guard !refs.isEmpty else { return }
        // Nothing to read back: it goes out with the statement that follows (the grant insert).
        try await tx.executeLater(
            """
            SELECT count(pg_advisory_xact_lock(h)) FROM (
                SELECT DISTINCT hashtextextended(r, 8008) AS h FROM unnest(\(refs)::text[]) AS r ORDER BY 1) AS locks
            """)
    }

    /// Inserts the grant unless its payment already has one. Its state starts from the refunds and disputes already
    /// recorded for its refs, and a grant of an ended (or re-priced) Stripe subscription is cut where that happened.
    /// - Returns: the new grant's id and the state it starts in, or nil when the payment already had a grant.
    public static func insert(_ tx: PGConnection, _ grant: NewGrant, paymentEventID: Int64?) async throws -> Inserted? {
        try await tx.query(insertStatement(grant, paymentEventID: paymentEventID)).first.map { row in
            Inserted(id: try row.decode("id"), state: GrantState(rawValue: try row.decode("state", as: String.self)) ?? .active)
        }
    }

    /// The INSERT of `insert`, returning the new grant's id and state (nothing on a conflict).
    private static func insertStatement(_ grant: NewGrant, paymentEventID: Int64?) -> PGQuery {
        var periodStart: Date?
        var periodEnd: Date?
        var seconds: Int64?
        let kind: String
        switch grant.kind {
        case .period(let start, let end):
            (periodStart, periodEnd, kind) = (start, end, "period")
        case .duration(let length):
            (seconds, kind) = (length, "duration")
        }
        // A live period grant's days lie where its period says (cut short where its subscription ended): stored at
        // once, so the recompute that follows has no row to update in the common case (a paid invoice).
        // MATERIALIZED: `v` is computed once. Inlined, each of its columns was recomputed where it is used (the
        // subscription lookup four times, the reversal state three).
        return """
            WITH v AS MATERIALIZED (
                SELECT (SELECT CASE WHEN s.plan IS DISTINCT FROM \(grant.plan) AND s.plan_changed_at > \(periodStart)
                                    THEN least(s.ended_at, s.plan_changed_at) ELSE s.ended_at END
                        FROM stripe_subscriptions s WHERE s.subscription_id = \(grant.subscriptionRef)) AS cut,
                       grant_reversal_state(\(grant.refs)::text[]) AS state,
                       \(periodStart)::timestamptz AS ps, \(periodEnd)::timestamptz AS pe)
            INSERT INTO entitlement_grants (user_id, plan, source, payment_key, kind, grace, purchased_at, period_start,
                period_end, duration, cut_at, state, subscription_ref, refs, payment_event_id, starts_at, ends_at)
            SELECT \(grant.userID), \(grant.plan), \(grant.source.rawValue), \(grant.paymentKey), \(kind), \(grant.grace),
                \(grant.purchasedAt), v.ps, v.pe, make_interval(secs => \(seconds)), v.cut, v.state,
                \(grant.subscriptionRef), \(grant.refs)::text[], \(paymentEventID),
                CASE WHEN v.state = 'active' AND least(v.pe, v.cut) > v.ps THEN v.ps END,
                CASE WHEN v.state = 'active' AND least(v.pe, v.cut) > v.ps THEN least(v.pe, v.cut) END
            FROM v
            ON CONFLICT (payment_key) DO NOTHING
            RETURNING id, state
            """
    }

    /// A grant just inserted.
    public struct Inserted: Sendable, Equatable {
        public var id: Int64
        /// `refunded`, `disputed` or `charged_back` when a reversal of the payment arrived before it.
        public var state: GrantState
    }

    /// A payment applied: the grant it made and what the plan reads now.
    public struct Applied: Sendable, Equatable {
        public var grant: Inserted
        public var entitlement: EntitlementState
    }

    /// Rewrites the (user, plan) read model from its grants (`entitlement_recompute`), under the row lock.
    @discardableResult
    public static func recompute(
        _ tx: PGConnection, userID: Int64, plan: String, cause: ChangeCause, grantID: Int64? = nil
    ) async throws -> EntitlementState {
        guard
            let row = try await tx.query(
                """
                SELECT status, expires_at, changed FROM entitlement_recompute(\(userID), \(plan), \(cause.actor.rawValue),
                    \(cause.reason), \(cause.paymentEventID), \(grantID))
                """
            ).first
        else { throw BillingError.entitlementNotFound }
        return try entitlementState(row)
    }

    /// Inserts a grant and recomputes its plan; nil when the payment already had a grant.
    @discardableResult
    public static func grant(_ tx: PGConnection, _ grant: NewGrant, cause: ChangeCause) async throws -> EntitlementState? {
        try await apply(tx, grant, cause: cause)?.entitlement
    }

    /// Inserts a grant and recomputes its plan; nil when the payment already had a grant.
    ///
    /// With a payment event behind it, the insert and the recompute go out in one round trip: the recompute runs for
    /// the grant with this payment key that this event made, which is none when the insert met an existing grant.
    @discardableResult
    public static func apply(_ tx: PGConnection, _ grant: NewGrant, cause: ChangeCause) async throws -> Applied? {
        guard let eventID = cause.paymentEventID else {
            guard let inserted = try await insert(tx, grant, paymentEventID: nil) else { return nil }
            let state = try await recompute(tx, userID: grant.userID, plan: grant.plan, cause: cause, grantID: inserted.id)
            return Applied(grant: inserted, entitlement: state)
        }
        try await tx.executeLater(insertStatement(grant, paymentEventID: eventID))
        let row = try await tx.query(
            """
            SELECT g.id, g.state, r.status, r.expires_at, r.changed
            FROM entitlement_grants g,
                 LATERAL entitlement_recompute(g.user_id, g.plan, \(cause.actor.rawValue), \(cause.reason), \(eventID), g.id) AS r
            WHERE g.payment_key = \(grant.paymentKey) AND g.payment_event_id = \(eventID)
            """
        ).first
        guard let row else { return nil }
        return Applied(
            grant: Inserted(id: try row.decode("id"), state: GrantState(rawValue: try row.decode("state", as: String.self)) ?? .active),
            entitlement: try entitlementState(row))
    }

    /// What `entitlement_recompute` answered.
    private static func entitlementState(_ row: PGRow) throws -> EntitlementState {
        EntitlementState(
            status: EntitlementStatus(rawValue: try row.decode("status", as: String.self)) ?? .expired,
            expiresAt: try row.decode("expires_at"), changed: try row.decode("changed"))
    }

    /// The `invoices` row of a grant's payment: Stripe invoices by invoice id, one-time payments by payment intent
    /// (or session), Stars payments by charge id.
    public static func invoiceKey(paymentKey: String) -> (provider: PaymentProvider, id: String)? {
        for (prefix, provider) in [
            ("stripe:invoice:", PaymentProvider.stripe), ("stripe:payment:", .stripe),
            ("stars:", .telegramStars),
        ] where paymentKey.hasPrefix(prefix) {
            return (provider, String(paymentKey.dropFirst(prefix.count)))
        }
        return nil
    }

    /// Marks the invoice of a refunded payment `refunded` (its grant is the source of truth; the invoice follows).
    public static func markInvoiceRefunded(_ tx: PGConnection, paymentKey: String) async throws {
        guard let key = invoiceKey(paymentKey: paymentKey) else { return }
        try await InvoiceStore.advanceStatus(tx, provider: key.provider, providerInvoiceID: key.id, to: .refunded)
    }

    /// True when the user holds the plan through a live grant of a subscription of `source` that is still
    /// renewing (a second subscription to it would charge twice).
    public static func holdsSubscription(
        _ connection: PGConnection, userID: Int64, plan: String, source: EntitlementSource
    ) async throws -> Bool {
        try await connection.query(
            """
            SELECT 1 FROM entitlement_grants g
            LEFT JOIN stripe_subscriptions s ON s.subscription_id = g.subscription_ref
            LEFT JOIN stars_subscriptions t ON t.first_charge_id = g.subscription_ref
            WHERE g.user_id = \(userID) AND g.plan = \(plan) AND g.source = \(source.rawValue)
              AND g.subscription_ref IS NOT NULL AND g.state = 'active' AND g.ends_at > now()
              AND (s.subscription_id IS NULL OR (s.ended_at IS NULL AND s.status NOT IN ('canceled', 'incomplete_expired')))
              AND (t.first_charge_id IS NULL OR NOT t.canceled)
            LIMIT 1
            """
        ).first != nil
    }
}
