extension PGConnection {
    /// Takes a transaction-scoped advisory lock (released at COMMIT/ROLLBACK), waiting for it.
    public func advisoryTransactionLock(_ key: Int64) async throws(PGError) {
        try await execute("SELECT pg_advisory_xact_lock(\(key))")
    }

    /// Tries a transaction-scoped advisory lock without waiting.
    public func tryAdvisoryTransactionLock(_ key: Int64) async throws(PGError) -> Bool {
        try await query("SELECT pg_try_advisory_xact_lock(\(key)) AS locked").first?.decode("locked", as: Bool.self)
            ?? false
    }

    /// Takes a session advisory lock, waiting for it. Release it with `advisoryUnlock(_:)`.
    public func advisoryLock(_ key: Int64) async throws(PGError) {
        try await execute("SELECT pg_advisory_lock(\(key))")
    }

    /// Tries a session advisory lock without waiting.
    public func tryAdvisoryLock(_ key: Int64) async throws(PGError) -> Bool {
        try await query("SELECT pg_try_advisory_lock(\(key)) AS locked").first?.decode("locked", as: Bool.self) ?? false
    }

    /// Releases a session advisory lock; false when this session did not hold it.
    @discardableResult
    public func advisoryUnlock(_ key: Int64) async throws(PGError) -> Bool {
        try await query("SELECT pg_advisory_unlock(\(key)) AS unlocked").first?.decode("unlocked", as: Bool.self)
            ?? false
    }
}
