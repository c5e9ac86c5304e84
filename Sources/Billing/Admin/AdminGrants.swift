import PGClient

/// Grants operators make by hand (`source = admin`).
public enum AdminGrants {
    /// Whether the grant made under `paymentKey` is for this user, plan and length (an `Idempotency-Key` sent again
    /// must repeat the same request).
    /// - Parameters:
    ///   - tx: the caller's transaction.
    ///   - paymentKey: `admin:<Idempotency-Key>`.
    ///   - userID: the grant's user.
    ///   - plan: the grant's plan.
    ///   - days: the grant's length in days.
    public static func isSameGrant(_ tx: PGConnection, paymentKey: String, userID: Int64, plan: String, days: Int)
        async throws -> Bool
    {
        try await tx.query(
            """
            SELECT 1 FROM entitlement_grants
            WHERE payment_key = \(paymentKey) AND user_id = \(userID) AND plan = \(plan)
              AND duration = make_interval(secs => \(Int64(days) * 86_400))
            """
        ).first != nil
    }
}
