import CLibPQ

extension PGConnection {
    /// Runs `body` inside BEGIN … COMMIT on this connection; any thrown error rolls back and is rethrown.
    ///
    /// BEGIN is not a round trip of its own: it goes out in front of the first statement. A failure of that first
    /// batch that loses the connection is marked `safeToRetry` (nothing can have committed), so the pool may retry
    /// on a new connection. The body may end the transaction itself with `commit(with:)` or
    /// `rollbackWithoutWaiting()`; otherwise COMMIT is sent when it returns.
    public func inTransaction<T>(
        isolation: PGIsolation = .readCommitted,
        _ body: (PGConnection) async throws -> T
    ) async throws -> T {
        state.withLock { $0.transaction = .pendingBegin(PGConnection.beginStatement(isolation)) }
        let value: T
        do {
            value = try await body(self)
        } catch {
            await rollback()
            throw error
        }
        do {
            try await commit()
        } catch {
            await rollback()
            throw error
        }
        return value
    }

    /// Runs `query` and COMMIT in one round trip and returns the statement's rows. The transaction is over after it.
    @discardableResult
    public func commit(with query: PGQuery) async throws(PGError) -> PGResult {
        let results = try await run([query, "COMMIT"])
        state.withLock { $0.transaction = .none }
        guard let result = results.first else { throw PGError(kind: .usage, message: "statement returned no result") }
        return result
    }

    /// Ends the transaction with ROLLBACK without waiting for the answer (the next user of the connection reads
    /// it first). For a unit of work that wrote nothing and has nothing to report, such as a duplicate event.
    public func rollbackWithoutWaiting() {
        let sent = state.withLock { handle -> Bool in
            switch handle.transaction {
            case .none:
                return true
            case .pendingBegin:
                handle.transaction = .none
                handle.deferred = []
                return true
            case .open:
                handle.transaction = .none
                handle.deferred = []
                guard let pg = handle.pg,
                    PQsendQueryParams(pg, "ROLLBACK", 0, nil, nil, nil, nil, 0) == 1, PQpipelineSync(pg) == 1,
                    PQflush(pg) >= 0
                else { return false }
                handle.unreadBatches += 1
                return true
            }
        }
        // The server aborts the transaction when the session ends; make sure it does.
        if !sent { close() }
    }

    func commit() async throws(PGError) {
        let (transaction, deferred) = state.withLock { ($0.transaction, !$0.deferred.isEmpty) }
        switch transaction {
        case .none:
            return
        case .pendingBegin where !deferred:
            state.withLock { $0.transaction = .none }
        case .pendingBegin:
            _ = try await run(["COMMIT"])
            state.withLock { $0.transaction = .none }
        case .open:
            _ = try await run(["COMMIT"])
            state.withLock { $0.transaction = .none }
        }
    }

    func rollback() async {
        let transaction = state.withLock { handle in
            handle.deferred = []
            return handle.transaction
        }
        switch transaction {
        case .none:
            return
        case .pendingBegin:
            state.withLock { $0.transaction = .none }
        case .open:
            // A lost connection cannot roll back; the server aborts the transaction when the session ends.
            _ = try? await run(["ROLLBACK"])
            state.withLock { $0.transaction = .none }
        }
    }

    static func beginStatement(_ isolation: PGIsolation) -> String {
        switch isolation {
        case .readCommitted: "BEGIN"
        case .repeatableRead: "BEGIN ISOLATION LEVEL REPEATABLE READ"
        case .serializable: "BEGIN ISOLATION LEVEL SERIALIZABLE"
        }
    }
}
