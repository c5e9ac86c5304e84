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
        return try await tx.query(
            """
            WITH v AS (
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
        ).first.map { row in
            Inserted(id: try row.decode("id"), state: GrantState(rawValue: try row.decode("state", as: String.self)) ?? .active)
        }
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
        return EntitlementState(
            status: EntitlementStatus(rawValue: try row.decode("status", as: String.self)) ?? .expired,
            expiresAt: try row.decode("expires_at"), changed: try row.decode("changed"))
    }

    /// Inserts a grant and recomputes its plan; nil when the payment already had a grant.
    @discardableResult
    public static func grant(_ tx: PGConnection, _ grant: NewGrant, cause: ChangeCause) async throws -> EntitlementState? {
        try await apply(tx, grant, cause: cause)?.entitlement
    }

    /// Inserts a grant and recomputes its plan; nil when the payment already had a grant.
    @discardableResult
    public static func apply(_ tx: PGConnection, _ grant: NewGrant, cause: ChangeCause) async throws -> Applied? {
        guard let inserted = try await insert(tx, grant, paymentEventID: cause.paymentEventID) else { return nil }
        let state = try await recompute(tx, userID: grant.userID, plan: grant.plan, cause: cause, grantID: inserted.id)
        return Applied(grant: inserted, entitlement: state)
    }

    /// The `invoices` row of a grant's payment: Stripe invoices by invoice id, one-time payments by payment intent
    /// (or session), Stars payments by charge id.
    public static func invoiceKey(paymentKey: String) -> (provider: PaymentProvider, id: String)? {
        for (prefix, provider) in [("stripe:invoice:", PaymentProvider.stripe), ("stripe:payment:", .stripe),
                                   ("stars:", .telegramStars)] where paymentKey.hasPrefix(prefix) {
            return (provider, String(paymentKey.dropFirst(prefix.count)))
        }
        return nil
    }

    /// Marks the invoice of a refunded payment `refunded` (its grant is the source of truth; the invoice follows).
    public static func markInvoiceRefunded(_ tx: PGConnection, paymentKey: String) async throws {
        guard let key = invoiceKey(paymentKey: paymentKey) else { return }
        try await InvoiceStore.advanceStatus(tx, provider: key.provider, providerInvoiceID: key.id, to: .refunded)
    }

    /// Records a full refund of the payment named by `refs` (a tombstone per ref, so a payment delivered later
    /// grants nothing) and ends what it bought.
    /// - Returns: the (user, plan) pairs whose grants it ended, recomputed.
    @discardableResult
    public static func refund(_ tx: PGConnection, refs: [String], cause: ChangeCause) async throws -> [Recomputed] {
        let touched = try await tx.query(
            """
            WITH tombstones AS (
                INSERT INTO payment_refunds (ref, payment_event_id)
                SELECT r, \(cause.paymentEventID) FROM unnest(\(refs)::text[]) AS r
                ON CONFLICT (ref) DO NOTHING)
            UPDATE entitlement_grants SET state = 'refunded', updated_at = now()
            WHERE refs && \(refs)::text[] AND state <> 'refunded'
            RETURNING id, user_id, plan, payment_key
            """
        ).map(Touched.init)
        for grant in touched { try await markInvoiceRefunded(tx, paymentKey: grant.paymentKey) }
        return try await recomputeEach(tx, touched, cause: cause)
    }

    /// Records a dispute's state (a closed dispute is final: a late `created` does not reopen it) and moves the
    /// disputed payment's grants accordingly: open suspends them, won restores them, lost ends them.
    @discardableResult
    public static func dispute(
        _ tx: PGConnection, disputeID: String, refs: [String], outcome: DisputeOutcome, cause: ChangeCause
    ) async throws -> [Recomputed] {
        try await tx.execute(
            """
            INSERT INTO stripe_disputes AS d (dispute_id, refs, status, closed)
            VALUES (\(disputeID), \(refs)::text[], \(outcome.rawValue), \(outcome != .open))
            ON CONFLICT (dispute_id) DO UPDATE SET status = EXCLUDED.status, closed = true,
                refs = ARRAY(SELECT DISTINCT unnest(d.refs || EXCLUDED.refs)), updated_at = now()
            WHERE NOT d.closed AND EXCLUDED.closed
            """)
        let touched = try await tx.query(
            """
            UPDATE entitlement_grants SET state = grant_reversal_state(refs), updated_at = now()
            WHERE refs && \(refs)::text[] AND state IN ('active', 'disputed', 'charged_back')
              AND state <> grant_reversal_state(refs)
            RETURNING id, user_id, plan, payment_key
            """
        ).map(Touched.init)
        return try await recomputeEach(tx, touched, cause: cause)
    }

    /// Ends every grant of the plan (an operator's revoke); later payments grant again.
    @discardableResult
    public static func revokeAll(_ tx: PGConnection, userID: Int64, plan: String, cause: ChangeCause) async throws
        -> EntitlementState?
    {
        let touched = try await tx.query(
            """
            UPDATE entitlement_grants SET state = 'revoked', updated_at = now()
            WHERE user_id = \(userID) AND plan = \(plan) AND state IN ('active', 'disputed')
            RETURNING id
            """)
        guard !touched.isEmpty else { return nil }
        return try await recompute(tx, userID: userID, plan: plan, cause: cause)
    }

    /// Cuts the grants of a subscription at `at` (it ended, or moved away from their plan), never lengthening
    /// an earlier cut. `exceptPlan`: grants of this plan are left alone (the subscription's new plan).
    @discardableResult
    public static func cutSubscription(
        _ tx: PGConnection, subscriptionRef: String, at: Date, exceptPlan: String? = nil, cause: ChangeCause
    ) async throws -> [Recomputed] {
        let touched = try await tx.query(
            """
            UPDATE entitlement_grants SET cut_at = \(at), updated_at = now()
            WHERE subscription_ref = \(subscriptionRef) AND (cut_at IS NULL OR cut_at > \(at))
              AND plan IS DISTINCT FROM \(exceptPlan)
            RETURNING id, user_id, plan, payment_key
            """
        ).map(Touched.init)
        return try await recomputeEach(tx, touched, cause: cause)
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

    /// A grant a change touched.
    public struct Touched: Sendable, Hashable {
        public var grantID: Int64
        public var userID: Int64
        public var plan: String
        public var paymentKey: String

        init(_ row: PGRow) throws {
            grantID = try row.decode("id")
            userID = try row.decode("user_id")
            plan = try row.decode("plan")
            paymentKey = try row.decode("payment_key")
        }
    }

    /// The outcome of a dispute event.
    public enum DisputeOutcome: String, Sendable {
        case open, won, lost
    }

    /// Recomputes each (user, plan) the grants belong to, once, in a fixed order.
    private static func recomputeEach(_ tx: PGConnection, _ touched: [Touched], cause: ChangeCause) async throws -> [Recomputed] {
        var seen: Set<String> = []
        var results: [Recomputed] = []
        for grant in touched.sorted(by: { ($0.userID, $0.plan) < ($1.userID, $1.plan) })
        where seen.insert("\(grant.userID)/\(grant.plan)").inserted {
            let state = try await recompute(tx, userID: grant.userID, plan: grant.plan, cause: cause, grantID: grant.grantID)
            results.append(Recomputed(userID: grant.userID, plan: grant.plan, state: state))
        }
        return results
    }

    /// A (user, plan) a change recomputed, and what it reads now.
    public struct Recomputed: Sendable, Equatable {
        public var userID: Int64
        public var plan: String
        public var state: EntitlementState
    }
}
