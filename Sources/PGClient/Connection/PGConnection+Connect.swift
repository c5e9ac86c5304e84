import CLibPQ

#if canImport(Glibc)
import Glibc
import Support
#endif

extension PGConnection {
    /// Opens a connection without blocking a thread (`PQconnectStartParams` + `PQconnectPoll` on the reactor) and
    /// sets the session to UTC with ISO dates, which PGClient's date codec needs — one round trip for all of it.
    ///
    /// Unless the connection string says otherwise, TCP connections get keepalives and a `tcp_user_timeout`, so a
    /// server that vanishes from the network fails the connection within about half a minute. (Host names are
    /// resolved by libpq synchronously; configure an address or a socket directory where that matters.)
    /// - Parameters:
    ///   - conninfo: a libpq connection string or URI.
    ///   - usePreparedStatements: false for PgBouncer in transaction mode.
    ///   - statementTimeout: the session's `statement_timeout` (nil leaves the server's default).
    public static func connect(
        conninfo: String, usePreparedStatements: Bool = true, statementTimeout: Duration? = nil
    ) async throws(PGError) -> PGConnection {
        // Defaults first, then `dbname` expanded from `conninfo`: libpq lets later values win.
        let keys = ["keepalives", "keepalives_idle", "keepalives_interval", "keepalives_count", "tcp_user_timeout", "dbname"]
        let values = ["1", "10", "5", "3", "30000", conninfo]
        let started: OpaquePointer? = withCStrings(keys) { cKeys in
            withCStrings(values) { cValues in PQconnectStartParams(cKeys, cValues, 1) }
        }
        guard let pg = started else {
            throw PGError(kind: .connection, message: "out of memory allocating a connection", safeToRetry: true)
        }
        do {
            try await poll(pg)
        } catch {
            PQfinish(pg)
            throw error
        }
        // Server NOTICEs would go to stderr by default; they carry nothing callers act on.
        PQsetNoticeReceiver(pg, { _, _ in }, nil)
        guard PQsetnonblocking(pg, 1) == 0, PQenterPipelineMode(pg) == 1 else {
            let error = connectionError(pg, "could not enter pipeline mode")
            PQfinish(pg)
            throw error
        }
        let connection = PGConnection(pg: pg, usePreparedStatements: usePreparedStatements)
        var session: [PGQuery] = [
            "SET TimeZone TO 'UTC'", "SET DateStyle TO 'ISO, YMD'", "SET client_encoding TO 'UTF8'",
            "SET IntervalStyle TO 'iso_8601'",
        ]
        if let statementTimeout {
            session.append(PGQuery(unsafeSQL: "SET statement_timeout TO \(max(1, Int64(statementTimeout.inMilliseconds)))"))
        }
        do {
            _ = try await connection.run(session, prepare: false)
        } catch {
            connection.close()
            var failure = error
            failure.safeToRetry = true
            throw failure
        }
        return connection
    }

    /// Drives `PQconnectPoll` until the connection is made, waiting on the reactor in between.
    private static func poll(_ pg: OpaquePointer) async throws(PGError) {
        guard PQstatus(pg) != CONNECTION_BAD else {
            throw PGError(kind: .connection, message: "could not connect: \(firstLine(PQerrorMessage(pg)))", safeToRetry: true)
        }
        var status = PGRES_POLLING_WRITING
        while true {
            switch status {
            case PGRES_POLLING_OK:
                return
            case PGRES_POLLING_READING:
                await PGReactor.shared.wait(socket: PQsocket(pg), for: .readable)
            case PGRES_POLLING_WRITING:
                await PGReactor.shared.wait(socket: PQsocket(pg), for: .writable)
            default:
                PGReactor.shared.forget(socket: PQsocket(pg))
                throw PGError(
                    kind: .connection, message: "could not connect: \(firstLine(PQerrorMessage(pg)))", safeToRetry: true)
            }
            status = PQconnectPoll(pg)
        }
    }

    /// Calls `body` with a NULL-terminated array of C strings that live for the call.
    private static func withCStrings<R>(_ strings: [String], _ body: ([UnsafePointer<CChar>?]) -> R) -> R {
        let copies = strings.map { strdup($0) }
        defer { for copy in copies { free(copy) } }
        return body(copies.map { UnsafePointer($0) } + [nil])
    }
}
