import CLibPQ

extension PGConnection {
    /// What the reader expects back for each message of a batch.
    enum Expected {
        /// A result handed to the caller (its position in the batch's queries).
        case result(Int)
        /// A result only checked: the deferred BEGIN, a PREPARE (which un-caches its statement when it fails).
        case control
        case prepare(sql: String)
    }

    /// Sends `queries` as one pipeline batch (after a deferred BEGIN, if any), with one Sync, and waits once for all
    /// their results. The first failure is thrown after the whole batch is read, so the connection stays usable;
    /// statements after a failed one did not run. A task cancelled while waiting cancels the statement on the server.
    func run(_ queries: [PGQuery], prepare: Bool = true) async throws(PGError) -> [PGResult] {
        try PGConnection.refuseNUL(queries)
        try await drainUnreadBatches()
        let (expected, beganTransaction) = try send(queries, prepare: prepare && usePreparedStatements)
        try await flush()
        let outcome: Result<[PGResult], PGError> = await withTaskCancellationHandler {
            await readBatch(expected, count: queries.count)
        } onCancel: { [canceller] in
            canceller.cancel()
        }
        switch outcome {
        case .success(let results):
            return results
        case .failure(var error):
            // Nothing of a batch that opened the transaction can have committed when the connection broke.
            if beganTransaction, error.isConnectionLost { error.safeToRetry = true }
            throw error
        }
    }

    /// libpq takes parameters as C strings: a NUL would silently cut the value. PostgreSQL text cannot hold U+0000
    /// anyway, so it is refused the way the server refuses it in text (22021), without sending anything. Not
    /// `safeToRetry`: it would fail the same way every time.
    static func refuseNUL(_ queries: [PGQuery]) throws(PGError) {
        if queries.contains(where: { $0.binds.contains(where: { $0.text?.utf8.contains(0) == true }) }) {
            throw PGError(
                kind: .server, sqlState: .characterNotInRepertoire,
                message: "a parameter contains a NUL character, which PostgreSQL text cannot store")
        }
    }

    /// Queues the batch in libpq's output buffer; returns what to expect back.
    private func send(_ queries: [PGQuery], prepare: Bool) throws(PGError) -> ([Expected], Bool) {
        try state.withLock { (handle: inout Handle) throws(PGError) -> ([Expected], Bool) in
            guard let pg = handle.pg else { throw PGError(kind: .connection, message: "connection is closed") }
            var expected: [Expected] = []
            expected.reserveCapacity(queries.count + 2)
            var began = false
            if case .pendingBegin(let begin) = handle.transaction {
                guard PQsendQueryParams(pg, begin, 0, nil, nil, nil, nil, 0) == 1 else {
                    throw PGConnection.connectionError(pg, "could not send BEGIN")
                }
                expected.append(.control)
                handle.transaction = .open
                began = true
            }
            for query in handle.deferred {
                let sent = PGConnection.sendOne(query, pg: pg, prepare: prepare, handle: &handle, expected: &expected)
                guard sent else { throw PGConnection.connectionError(pg, "could not send a statement") }
                expected.append(.control)
            }
            handle.deferred = []
            for (index, query) in queries.enumerated() {
                let sent = PGConnection.sendOne(query, pg: pg, prepare: prepare, handle: &handle, expected: &expected)
                guard sent else { throw PGConnection.connectionError(pg, "could not send a statement") }
                expected.append(.result(index))
            }
            guard PQpipelineSync(pg) == 1 else { throw PGConnection.connectionError(pg, "could not send Sync") }
            handle.roundTrips += 1
            return (expected, began)
        }
    }

    private static func sendOne(
        _ query: PGQuery, pg: OpaquePointer, prepare: Bool, handle: inout Handle, expected: inout [Expected]
    ) -> Bool {
        let count = Int32(query.binds.count)
        guard prepare else {
            return withCParameters(query.binds) { types, values in
                PQsendQueryParams(pg, query.sql, count, types, values, nil, nil, 0) == 1
            }
        }
        let oids = query.binds.map(\.oid)
        var statement = handle.prepared[query.sql]
        if statement == nil, handle.prepared.count < preparedCacheLimit {
            // Names are never reused: a statement whose PREPARE failed leaves the cache, not its number.
            handle.statementsNamed += 1
            let name = "tb\(handle.statementsNamed)"
            let prepared = oids.withUnsafeBufferPointer { types in
                PQsendPrepare(pg, name, query.sql, count, types.baseAddress)
            }
            guard prepared == 1 else { return false }
            expected.append(.prepare(sql: query.sql))
            let made = PreparedStatement(name: name, oids: oids)
            handle.prepared[query.sql] = made
            statement = made
        }
        if let statement, statement.oids == oids {
            return withCParameters(query.binds) { _, values in
                PQsendQueryPrepared(pg, statement.name, count, values, nil, nil, 0) == 1
            }
        }
        // Not cached (cache full), or the same text bound with other types: run it unprepared.
        return withCParameters(query.binds) { types, values in
            PQsendQueryParams(pg, query.sql, count, types, values, nil, nil, 0) == 1
        }
    }

    /// Writes libpq's output buffer out, waiting for the socket when the kernel's buffer is full.
    func flush() async throws(PGError) {
        while true {
            let pending = try state.withLock { (handle: inout Handle) throws(PGError) -> Int32? in
                guard let pg = handle.pg else { throw PGError(kind: .connection, message: "connection is closed") }
                let flushed = PQflush(pg)
                if flushed < 0 { throw PGConnection.connectionError(pg, "could not send to the server") }
                if flushed == 0 { return nil }
                // Reading while waiting keeps a server that is itself blocked on writing from deadlocking us.
                guard PQconsumeInput(pg) == 1 else { throw PGConnection.connectionError(pg, "connection lost") }
                return handle.socket
            }
            guard let socket = pending else { return }
            await PGReactor.shared.wait(socket: socket, for: .writable)
        }
    }

    /// Reads one batch: every expected result, each followed by libpq's NULL separator, then the Sync.
    private func readBatch(_ expected: [Expected], count: Int) async -> Result<[PGResult], PGError> {
        var results: [PGResult] = []
        results.reserveCapacity(count)
        var failure: PGError?
        do {
            for item in expected {
                let raw = try await nextResult()
                let checked = state.withLock { (handle: inout Handle) -> Result<PGResult, PGError> in
                    guard let pg = handle.pg else { return .failure(PGError(kind: .connection, message: "connection is closed")) }
                    let result: Result<PGResult, PGError>
                    if let raw, PQresultStatus(raw) == PGRES_PIPELINE_ABORTED {
                        PQclear(raw)
                        result = .failure(PGError(kind: .usage, message: "statement skipped after an earlier failure"))
                    } else {
                        result = Result { () throws(PGError) -> PGResult in try PGConnection.check(raw, pg: pg) }
                    }
                    // A PREPARE that failed or never ran (skipped after an earlier failure of its batch) is not on
                    // the server: the next use prepares it again.
                    if case .failure = result, case .prepare(let sql) = item { handle.prepared[sql] = nil }
                    return result
                }
                switch checked {
                case .success(let result):
                    if case .result = item { results.append(result) }
                case .failure(let error):
                    if error.kind == .connection {
                        // Lost, or out of step with the protocol: either way the connection cannot be trusted again.
                        close()
                        return .failure(error)
                    }
                    if failure == nil { failure = error }
                }
                // Each statement's results end with a NULL.
                if let extra = try await nextResult() { PQclear(extra) }
            }
            try await readSync()
        } catch {
            close()
            return .failure(failure ?? error)
        }
        if let failure { return .failure(failure) }
        return .success(results)
    }

    /// Reads up to and including the batch's PIPELINE_SYNC result.
    func readSync() async throws(PGError) {
        while true {
            guard let raw = try await nextResult() else { continue }
            let status = PQresultStatus(raw)
            PQclear(raw)
            if status == PGRES_PIPELINE_SYNC { return }
        }
    }

    /// The next result (or NULL separator), waiting on the reactor while libpq has not received it yet.
    func nextResult() async throws(PGError) -> OpaquePointer? {
        while true {
            let socket = try state.withLock { (handle: inout Handle) throws(PGError) -> Int32? in
                guard let pg = handle.pg else { throw PGError(kind: .connection, message: "connection is closed") }
                if PQisBusy(pg) == 0 { return nil }
                guard PQconsumeInput(pg) == 1 else { throw PGConnection.connectionError(pg, "connection lost") }
                if PQisBusy(pg) == 0 { return nil }
                if PQstatus(pg) == CONNECTION_BAD { throw PGConnection.connectionError(pg, "connection lost") }
                return handle.socket
            }
            if let socket {
                await PGReactor.shared.wait(socket: socket, for: .readable)
                continue
            }
            return try state.withLock { (handle: inout Handle) throws(PGError) -> OpaquePointer? in
                guard let pg = handle.pg else { throw PGError(kind: .connection, message: "connection is closed") }
                return PQgetResult(pg)
            }
        }
    }

    /// Reads the results of batches sent without waiting (a ROLLBACK), before anything else is sent.
    func drainUnreadBatches() async throws(PGError) {
        while state.withLock({ $0.unreadBatches }) > 0 {
            try await readSync()
            state.withLock { $0.unreadBatches -= 1 }
        }
    }

    /// Lays every parameter's text out in one buffer and hands libpq the type and value arrays.
    static func withCParameters<R>(
        _ binds: [PGBind],
        _ body: (UnsafePointer<UInt32>?, UnsafePointer<UnsafePointer<CChar>?>?) -> R
    ) -> R {
        if binds.isEmpty { return body(nil, nil) }
        var buffer = [CChar]()
        var offsets = [Int](repeating: -1, count: binds.count)
        var capacity = 0
        for bind in binds { capacity += (bind.text?.utf8.count ?? 0) + 1 }
        buffer.reserveCapacity(capacity)
        for (index, bind) in binds.enumerated() {
            guard let text = bind.text else { continue }
            offsets[index] = buffer.count
            for byte in text.utf8 { buffer.append(CChar(bitPattern: byte)) }
            buffer.append(0)
        }
        let types = binds.map(\.oid)
        return buffer.withUnsafeBufferPointer { chars in
            let values: [UnsafePointer<CChar>?] = offsets.map { offset in
                offset < 0 ? nil : chars.baseAddress.map { $0 + offset }
            }
            return types.withUnsafeBufferPointer { typePointer in
                values.withUnsafeBufferPointer { valuePointer in
                    body(typePointer.baseAddress, valuePointer.baseAddress)
                }
            }
        }
    }
}
