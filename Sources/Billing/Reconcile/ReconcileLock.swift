import PGClient

/// A transaction-scoped advisory lock held for the length of a run, in a transaction kept open on a connection of its own (a
/// pool connection would go back to the pool between statements). The lock ends with that transaction, also when the process dies.
public final class ReconcileLock: Sendable {
    private let connection: PGConnection

    private init(connection: PGConnection) {
        self.connection = connection
    }

    /// Takes a transaction-scoped advisory lock in a transaction held open for the run, on a connection of its own.
    /// A session lock would not survive PgBouncer in transaction mode (it stays on whichever server connection ran
    /// the statement, so two instances could both "hold" it); an open transaction keeps its server connection, and
    /// the lock ends with it — also when the process dies and the connection drops.
    /// - Parameter wait: poll every second until free (cancellable) instead of giving up at once.
    /// - Returns: the held lock, or nil when another instance holds it and `wait` is false.
    public static func acquire(conninfo: String, key: Int64, wait: Bool) async throws -> ReconcileLock? {
        let connection = try await PGConnection.connect(conninfo: conninfo)
        do {
            while true {
                try await connection.unsafeExecute("BEGIN")
                let locked =
                    try await connection.query("SELECT pg_try_advisory_xact_lock(\(key)) AS locked").first?
                    .decode("locked", as: Bool.self) ?? false
                if locked { return ReconcileLock(connection: connection) }
                try await connection.unsafeExecute("ROLLBACK")
                guard wait else {
                    connection.close()
                    return nil
                }
                try await Task.sleep(for: .seconds(1))
            }
        } catch {
            connection.close()
            throw error
        }
    }

    /// Ends the session: the server rolls the transaction back and the lock with it.
    public func release() {
        connection.close()
    }
}
