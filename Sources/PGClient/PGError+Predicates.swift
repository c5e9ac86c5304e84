/// What an error means for the caller, decided here once so that no caller reads SQLSTATE classes or messages.
///
/// - `isConnectionLost`, `isUnavailable`: the database cannot be reached or the pool cannot serve now (retry later).
/// - `isTransactionRetryable`, `isRetryable`: running the whole unit of work again may succeed (pgx's SafeToRetry
///   idea: nothing of it can have been applied, or the server rolled it back for a conflict).
/// - `isStatementError`: the server refused one of our statements (not a lost connection); `failsEveryTime`, the
///   subset caused by the values it carried (class 22 data exceptions, class 23 integrity violations), which the
///   same input would meet again on every attempt; `isRejectedValue`, the subset no retry and no other row can fix
///   (invalid data, a CHECK, a value too large for an index).
extension PGError {
    /// A unique violation, on `constraint` when one is named.
    public func isUniqueViolation(constraint name: String? = nil) -> Bool {
        sqlState == .uniqueViolation && (name == nil || constraint == name)
    }

    /// The database cannot be reached or the pool cannot serve: worth a 503 and a retry.
    public var isUnavailable: Bool {
        isConnectionLost || kind == .checkoutTimeout || kind == .poolExhausted || kind == .poolClosed
    }

    /// Running the unit of work again may succeed and cannot apply anything twice.
    public var isRetryable: Bool { isTransactionRetryable || safeToRetry }

    /// The server answered one of our statements with an error (the connection is fine).
    public var isStatementError: Bool { kind == .server && !isConnectionLost }

    /// A statement error caused by the values it carried (data exception or integrity violation): the same input
    /// fails the same way on every attempt.
    public var failsEveryTime: Bool {
        guard isStatementError, let state = sqlState else { return false }
        return state.errorClass == "22" || state.errorClass == "23"
    }

    /// A value PostgreSQL can never store as given: invalid or unstorable data (class 22, e.g. a NUL in jsonb or
    /// text), a CHECK constraint, or a value too large for an index (class 54). The client's 400, not a 5xx.
    public var isRejectedValue: Bool {
        guard isStatementError, let state = sqlState else { return false }
        return state.errorClass == "22" || state == .checkViolation || state.errorClass == "54"
    }
}
