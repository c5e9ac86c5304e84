import CLibPQ

extension PGConnection {
    /// Runs one statement with bound parameters and returns its rows.
    @discardableResult
    public func query(_ query: PGQuery) async throws(PGError) -> PGResult {
        let results = try await run([query])
        guard let result = results.first else { throw PGError(kind: .usage, message: "statement returned no result") }
        return result
    }

    /// Runs one statement and returns the number of rows it changed.
    @discardableResult
    public func execute(_ query: PGQuery) async throws(PGError) -> Int {
        try await self.query(query).affectedRows
    }

    /// Runs statements that do not depend on each other's results in one round trip, in order. The first failure
    /// is thrown and the statements after it do not run. Outside a transaction the batch is one implicit transaction
    /// (PostgreSQL's rule up to a Sync): all of it commits or none; inside one, a failure aborts the transaction.
    @discardableResult
    public func pipeline(_ queries: [PGQuery]) async throws(PGError) -> [PGResult] {
        guard !queries.isEmpty else { return [] }
        return try await run(queries)
    }

    /// Queues a statement of the open transaction whose result the caller does not need (a lock, a write it does
    /// not read back): it goes out, in order, with the next statement or the COMMIT, saving a round trip. Its
    /// failure is thrown by that next call, and aborts the transaction as it would have at once. Outside a
    /// transaction it runs now.
    public func executeLater(_ query: PGQuery) async throws(PGError) {
        try PGConnection.refuseNUL([query])
        let queued = state.withLock { handle -> Bool in
            if case .none = handle.transaction { return false }
            handle.deferred.append(query)
            return true
        }
        if !queued { try await execute(query) }
    }

    /// Runs SQL text through the simple query protocol: no parameters, several statements allowed. For migrations
    /// and fixed session commands only; never pass text that contains input.
    public func unsafeExecute(_ sql: String) async throws(PGError) {
        let unsent = state.withLock { handle -> Bool in
            if case .pendingBegin = handle.transaction { return true }
            return !handle.deferred.isEmpty
        }
        if unsent { _ = try await run([]) }
        try await drainUnreadBatches()
        try state.withLock { (handle: inout Handle) throws(PGError) in
            guard let pg = handle.pg else { throw PGError(kind: .connection, message: "connection is closed") }
            guard PQexitPipelineMode(pg) == 1 else { throw PGConnection.connectionError(pg, "could not leave pipeline mode") }
            guard PQsendQuery(pg, sql) == 1 else { throw PGConnection.connectionError(pg, "could not send SQL") }
            handle.roundTrips += 1
        }
        try await flush()
        let outcome: PGError? = await withTaskCancellationHandler {
            await readSimpleResults()
        } onCancel: { [canceller] in
            canceller.cancel()
        }
        if let outcome { throw outcome }
    }

    /// Reads the results of a simple query (one per statement, then NULL) and goes back to pipeline mode.
    private func readSimpleResults() async -> PGError? {
        var failure: PGError?
        do {
            while let raw = try await nextResult() {
                let checked = state.withLock { (handle: inout Handle) -> PGError? in
                    guard let pg = handle.pg else { return PGError(kind: .connection, message: "connection is closed") }
                    do throws(PGError) {
                        _ = try PGConnection.check(raw, pg: pg)
                        return nil
                    } catch {
                        return error
                    }
                }
                if failure == nil { failure = checked }
            }
            try state.withLock { (handle: inout Handle) throws(PGError) in
                guard let pg = handle.pg else { throw PGError(kind: .connection, message: "connection is closed") }
                guard PQenterPipelineMode(pg) == 1 else {
                    throw PGConnection.connectionError(pg, "could not enter pipeline mode")
                }
            }
        } catch {
            close()
            return failure ?? error
        }
        return failure
    }
}
