import Foundation
import PGClient

/// Entitlement changes under a row lock, each with its audit row, inside the caller's transaction.
///
/// Every change first upserts-and-locks the (user, plan) row (`ON CONFLICT DO UPDATE` locks it and reads the latest
/// committed version), then updates it and appends the `entitlement_changes` row in one statement. Concurrent
/// extensions therefore queue on the lock and add up instead of overwriting each other.
public enum EntitlementStore {
    /// Extends by `days` from the later of now and the current expiry (relative periods: Stars, admin grants).
    /// A revoked, canceled or expired entitlement starts again from now.
    @discardableResult
    public static func extend(
        _ tx: PGConnection, userID: Int64, plan: String, days: Int, source: EntitlementSource, cause: ChangeCause
    ) throws -> EntitlementChange {
        let locked = try lock(tx, userID: userID, plan: plan, source: source)
        let restart = "(status NOT IN ('active', 'past_due') OR expires_at <= now() OR \(locked.inserted))"
        return try apply(
            tx, locked: locked, action: .extend, cause: cause,
            update: """
                status = 'active', source = \(source.rawValue),
                starts_at = CASE WHEN \(unsafeRaw: restart) THEN now() ELSE starts_at END,
                expires_at = CASE WHEN \(unsafeRaw: restart) THEN now() ELSE expires_at END
                    + make_interval(days => \(days)::int)
                """)
    }

    /// Grants until an absolute time, never shortening: `greatest(expires_at, until)` (Stripe periods), which
    /// makes the result independent of the order events arrive in.
    @discardableResult
    public static func grant(
        _ tx: PGConnection, userID: Int64, plan: String, until: Date, source: EntitlementSource, cause: ChangeCause
    ) throws -> EntitlementChange {
        let locked = try lock(tx, userID: userID, plan: plan, source: source)
        let restart = "(status NOT IN ('active', 'past_due') OR expires_at <= now() OR \(locked.inserted))"
        return try apply(
            tx, locked: locked, action: .grant, cause: cause,
            update: """
                status = 'active', source = \(source.rawValue),
                starts_at = CASE WHEN \(unsafeRaw: restart) THEN now() ELSE starts_at END,
                expires_at = greatest(CASE WHEN \(locked.inserted) THEN now() ELSE expires_at END, \(until))
                """)
    }

    /// Revokes access; nil when there is no entitlement or it is already revoked (nothing written).
    @discardableResult
    public static func revoke(_ tx: PGConnection, userID: Int64, plan: String, cause: ChangeCause) throws
        -> EntitlementChange?
    {
        try setStatus(tx, userID: userID, plan: plan, status: .revoked, cause: cause)
    }

    /// Sets the status keeping the expiry (`past_due`, `canceled`, `active` again after a paid invoice); nil when
    /// there is no entitlement or the status is already that (nothing written).
    @discardableResult
    public static func setStatus(
        _ tx: PGConnection, userID: Int64, plan: String, status: EntitlementStatus, cause: ChangeCause
    ) throws -> EntitlementChange? {
        let existing = try tx.query(
            """
            SELECT id, status, expires_at, false AS inserted FROM user_entitlements
            WHERE user_id = \(userID) AND plan = \(plan) FOR UPDATE
            """)
        guard let row = existing.first else { return nil }
        let locked = try Locked(row)
        guard locked.status != status else { return nil }
        let action: EntitlementChange.Action = status == .revoked ? .revoke : .status
        return try apply(tx, locked: locked, action: action, cause: cause, update: "status = \(status.rawValue)")
    }

    /// The user's entitlements that give access now, longest-lasting first.
    public static func active(_ connection: PGConnection, userID: Int64) throws -> [Entitlement] {
        try connection.query(
            """
            SELECT id, user_id, plan, status, source, starts_at, expires_at FROM user_entitlements
            WHERE user_id = \(userID) AND status IN ('active', 'past_due') AND expires_at > now()
            ORDER BY expires_at DESC, plan
            """
        ).map(decode)
    }

    /// One entitlement by user and plan, whatever its status.
    public static func find(_ connection: PGConnection, userID: Int64, plan: String) throws -> Entitlement? {
        try connection.query(
            """
            SELECT id, user_id, plan, status, source, starts_at, expires_at FROM user_entitlements
            WHERE user_id = \(userID) AND plan = \(plan)
            """
        ).first.map(decode)
    }

    struct Locked {
        let id: Int64
        let status: EntitlementStatus?
        let expiresAt: Date?
        let inserted: Bool

        init(_ row: PGRow) throws {
            id = try row.decode("id")
            inserted = try row.decode("inserted")
            status = inserted ? nil : EntitlementStatus(rawValue: try row.decode("status", as: String.self))
            expiresAt = inserted ? nil : try row.decode("expires_at", as: Date.self)
        }
    }

    /// Creates the row if missing (as an already-expired placeholder) and locks it, returning the latest values.
    static func lock(_ tx: PGConnection, userID: Int64, plan: String, source: EntitlementSource) throws -> Locked {
        let result = try tx.query(
            """
            INSERT INTO user_entitlements AS e (user_id, plan, status, source, expires_at)
            VALUES (\(userID), \(plan), 'expired', \(source.rawValue), now())
            ON CONFLICT (user_id, plan) DO UPDATE SET updated_at = e.updated_at
            RETURNING id, status, expires_at, (xmax = 0) AS inserted
            """)
        guard let row = result.first else { throw BillingError.entitlementNotFound }
        return try Locked(row)
    }

    /// Updates the locked row and appends the audit row in one statement.
    static func apply(
        _ tx: PGConnection, locked: Locked, action: EntitlementChange.Action, cause: ChangeCause, update: PGQuery
    ) throws -> EntitlementChange {
        var query: PGQuery = "WITH updated AS (UPDATE user_entitlements SET "
        query.append(update)
        query.append(
            """
             , updated_at = now() WHERE id = \(locked.id) RETURNING id, user_id, plan, status, expires_at)
            INSERT INTO entitlement_changes (entitlement_id, user_id, plan, action, actor, reason, payment_event_id,
                before_status, after_status, before_expires_at, after_expires_at)
            SELECT id, user_id, plan, \(action.rawValue), \(cause.actor.rawValue), \(cause.reason), \(cause.paymentEventID),
                \(locked.status?.rawValue), status, \(locked.expiresAt), expires_at
            FROM updated
            RETURNING id, after_status, after_expires_at
            """)
        guard let row = try tx.query(query).first else { throw BillingError.entitlementNotFound }
        return EntitlementChange(
            changeID: try row.decode("id"),
            entitlementID: locked.id,
            action: action,
            beforeStatus: locked.status,
            afterStatus: EntitlementStatus(rawValue: try row.decode("after_status", as: String.self)) ?? .active,
            beforeExpiresAt: locked.expiresAt,
            afterExpiresAt: try row.decode("after_expires_at"))
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
