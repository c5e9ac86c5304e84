import Foundation
import PGClient

/// Changes to existing grants: refunds, disputes, an operator's revoke, a subscription's end. Each first locks the
/// read-model rows it will recompute (see `lockReadModels`), then changes the grants, then recomputes.
extension GrantStore {
    /// Records a full refund of the payment named by `refs` (a tombstone per ref, so a payment delivered later
    /// grants nothing) and ends what it bought.
    /// - Returns: the (user, plan) pairs whose grants it ended, recomputed.
    @discardableResult
    public static func refund(_ tx: PGConnection, refs: [String], cause: ChangeCause) async throws -> [Recomputed] {
        try await lockReadModels(tx, ofGrantsWithRefs: refs)
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
        try await lockReadModels(tx, ofGrantsWithRefs: refs)
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
        try await tx.executeLater(
            "SELECT 1 FROM user_entitlements WHERE user_id = \(userID) AND plan = \(plan) FOR UPDATE")
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
        try await tx.executeLater(
            """
            SELECT count(*) FROM (
                SELECT 1 FROM user_entitlements ue
                WHERE (ue.user_id, ue.plan) IN (SELECT user_id, plan FROM entitlement_grants WHERE subscription_ref = \(subscriptionRef))
                ORDER BY ue.user_id, ue.plan FOR UPDATE) AS locked
            """)
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

    /// Locks the read-model rows of the (user, plan)s that own grants with these refs, in `recomputeEach`'s order,
    /// before their grants are updated. `entitlement_recompute` takes the read-model row first and then updates
    /// grant rows; a change that updated grant rows first and then recomputed would deadlock with it (seen: a Stars
    /// refund beside a payment of the same plan). Nothing to read back: it goes out with the next statement.
    static func lockReadModels(_ tx: PGConnection, ofGrantsWithRefs refs: [String]) async throws {
        try await tx.executeLater(
            """
            SELECT count(*) FROM (
                SELECT 1 FROM user_entitlements ue
                WHERE (ue.user_id, ue.plan) IN (SELECT user_id, plan FROM entitlement_grants WHERE refs && \(refs)::text[])
                ORDER BY ue.user_id, ue.plan FOR UPDATE) AS locked
            """)
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
    static func recomputeEach(_ tx: PGConnection, _ touched: [Touched], cause: ChangeCause) async throws -> [Recomputed] {
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
