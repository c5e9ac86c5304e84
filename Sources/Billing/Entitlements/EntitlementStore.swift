import Foundation
import PGClient

/// Reads of `user_entitlements`, the read model of the grants (`GrantStore` writes it, through
/// `entitlement_recompute`, in the same transaction as every grant change).
public enum EntitlementStore {
    /// The user's entitlements that give access now, longest-lasting first.
    public static func active(_ connection: PGConnection, userID: Int64) async throws -> [Entitlement] {
        try await connection.query(
            """
            SELECT id, user_id, plan, status, source, starts_at, expires_at FROM user_entitlements
            WHERE user_id = \(userID) AND status IN ('active', 'past_due') AND expires_at > now()
            ORDER BY expires_at DESC, plan
            """
        ).map(decode)
    }

    /// One entitlement by user and plan, whatever its status.
    public static func find(_ connection: PGConnection, userID: Int64, plan: String) async throws -> Entitlement? {
        try await connection.query(
            """
            SELECT id, user_id, plan, status, source, starts_at, expires_at FROM user_entitlements
            WHERE user_id = \(userID) AND plan = \(plan)
            """
        ).first.map(decode)
    }

    static func decode(_ row: PGRow) throws -> Entitlement {
        Entitlement(
            id: try row.decode("id"),
            userID: try row.decode("user_id"),
            plan: try row.decode("plan"),
            status: EntitlementStatus(rawValue: try row.decode("status", as: String.self)) ?? .expired,
            source: EntitlementSource(rawValue: try row.decode("source", as: String.self)) ?? .admin,
            startsAt: try row.decode("starts_at"),
            expiresAt: try row.decode("expires_at"))
    }
}
