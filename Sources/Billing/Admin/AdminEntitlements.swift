import Foundation
import PGClient

/// An operator's grants and revocations of access (`POST` and `DELETE /admin/v1/entitlements`), each in one
/// transaction. A grant is one `admin` grant row keyed by its payment key, so the same key again changes nothing.
public struct AdminEntitlements: Sendable {
    let pool: PGPool

    public init(pool: PGPool) {
        self.pool = pool
    }

    /// Whose access: a user by `users.id`, or by Telegram id (a grant creates the user, as it may precede the user's
    /// first message; a revocation does not).
    public enum Target: Sendable, Equatable {
        case user(Int64)
        case telegram(Int64)
    }

    /// Requests that change nothing.
    public enum Failure: Error, Sendable, Equatable {
        case unknownUser
        case unknownPlan(String)
        /// The user has no entitlement to the plan.
        case noEntitlement
        /// The payment key was used for a grant to another user, plan or length.
        case keyReused
    }

    /// The user's entitlement to the plan afterwards.
    public struct Outcome: Sendable, Equatable {
        public var userID: Int64
        public var status: EntitlementStatus
        public var expiresAt: Date
        /// False when the request changed nothing (the same grant again, or nothing to revoke).
        public var changed: Bool
    }

    /// Grants `days` of `plan`.
    /// - Parameters:
    ///   - target: the user.
    ///   - plan: the plan's code.
    ///   - days: the grant's length.
    ///   - paymentKey: the grant's key (`admin:<Idempotency-Key>`, or a fresh one).
    ///   - reason: kept with the change.
    /// - Throws: `Failure`, or database errors.
    public func grant(_ target: Target, plan: String, days: Int, paymentKey: String, reason: String?) async throws
        -> Outcome
    {
        try await pool.transaction { tx -> Outcome in
            let userID = try await Self.resolve(tx, target, create: true)
            guard try await PlanStore.plan(tx, code: plan) != nil else { throw Failure.unknownPlan(plan) }
            let state = try await GrantStore.grant(
                tx,
                NewGrant(
                    userID: userID, plan: plan, source: .admin, paymentKey: paymentKey,
                    kind: .duration(seconds: Int64(days) * 86_400), purchasedAt: Date()),
                cause: ChangeCause(actor: .admin, reason: reason ?? "admin grant of \(days) days"))
            if let state {
                return Outcome(userID: userID, status: state.status, expiresAt: state.expiresAt, changed: true)
            }
            // The same key again: the grant it made, unchanged.
            guard try await AdminGrants.isSameGrant(tx, paymentKey: paymentKey, userID: userID, plan: plan, days: days)
            else { throw Failure.keyReused }
            guard let current = try await EntitlementStore.find(tx, userID: userID, plan: plan) else {
                throw Failure.noEntitlement
            }
            return Outcome(userID: userID, status: current.status, expiresAt: current.expiresAt, changed: false)
        }
    }

    /// Revokes every grant of `plan` the user has.
    /// - Parameters:
    ///   - target: the user.
    ///   - plan: the plan's code.
    ///   - reason: kept with the change.
    /// - Throws: `Failure`, or database errors.
    public func revoke(_ target: Target, plan: String, reason: String?) async throws -> Outcome {
        try await pool.transaction { tx -> Outcome in
            let userID = try await Self.resolve(tx, target, create: false)
            let change = try await GrantStore.revokeAll(
                tx, userID: userID, plan: plan, cause: ChangeCause(actor: .admin, reason: reason ?? "admin revoke"))
            guard let current = try await EntitlementStore.find(tx, userID: userID, plan: plan) else {
                throw Failure.noEntitlement
            }
            return Outcome(userID: userID, status: current.status, expiresAt: current.expiresAt, changed: change != nil)
        }
    }

    private static func resolve(_ connection: PGConnection, _ target: Target, create: Bool) async throws -> Int64 {
        switch target {
        case .user(let id):
            guard try await UserStore.find(connection, id: id) != nil else { throw Failure.unknownUser }
            return id
        case .telegram(let telegramID):
            if create { return try await UserStore.ensure(connection, telegramID: telegramID) }
            guard let user = try await UserStore.find(connection, telegramID: telegramID) else { throw Failure.unknownUser }
            return user.id
        }
    }
}
