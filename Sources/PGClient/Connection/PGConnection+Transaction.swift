extension PGConnection {
    /// Runs `body` inside BEGIN … COMMIT on this connection; any thrown error rolls back and is rethrown.
    ///
    /// A failure of BEGIN itself is marked `safeToRetry` (nothing ran), so the pool may retry on a new connection.
    public func inTransaction<T>(
        isolation: PGIsolation = .readCommitted,
        _ body: (PGConnection) throws -> T
    ) throws -> T {
        do {
            try unsafeExecute(PGConnection.beginStatement(isolation))
        } catch {
            var failure = error
            failure.safeToRetry = true
            throw failure
        }
        let value: T
        do {
            value = try body(self)
        } catch {
            rollbackQuietly()
            throw error
        }
        do {
            try unsafeExecute("COMMIT")
        } catch {
            rollbackQuietly()
            throw error
        }
        return value
    }

    private func rollbackQuietly() {
        // A lost connection cannot roll back; the server aborts the transaction when the session ends.
        try? unsafeExecute("ROLLBACK")
    }

    static func beginStatement(_ isolation: PGIsolation) -> String {
        switch isolation {
        case .readCommitted: "BEGIN"
        case .repeatableRead: "BEGIN ISOLATION LEVEL REPEATABLE READ"
        case .serializable: "BEGIN ISOLATION LEVEL SERIALIZABLE"
        }
    }
}
