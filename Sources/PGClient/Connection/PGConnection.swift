import CLibPQ
#if canImport(Glibc)
import Glibc
#endif


/// One libpq connection. Every libpq call is blocking, so a connection is only used from a pool thread, inside a
/// unit of work; the `LockedHandle` makes it `Sendable` (it can be handed to a thread) and guarantees it is never used by
/// two threads at once.
public final class PGConnection: Sendable {
    struct Handle {
        var pg: OpaquePointer?
        /// SQL text → (statement name, parameter type OIDs) of statements prepared on this connection.
        var prepared: [String: PreparedStatement] = [:]
    }

    struct PreparedStatement {
        let name: String
        let oids: [UInt32]
    }

    /// Statements prepared per connection at most; past that, queries run unprepared.
    static let preparedCacheLimit = 512

    let state: LockedHandle<Handle>
    let usePreparedStatements: Bool

    private init(pg: OpaquePointer, usePreparedStatements: Bool) {
        self.state = LockedHandle(Handle(pg: pg))
        self.usePreparedStatements = usePreparedStatements
    }

    deinit {
        state.withLock { handle in
            if let pg = handle.pg { PQfinish(pg) }
            handle.pg = nil
        }
    }

    /// Opens a connection (blocking) and sets the session to UTC with ISO dates, which PGClient's date codec needs.
    ///
    /// Unless the connection string says otherwise, TCP connections get keepalives and a `tcp_user_timeout`, so a
    /// server that vanishes from the network fails the connection within about half a minute instead of blocking
    /// a pool thread until the kernel gives up.
    /// - Parameters:
    ///   - conninfo: a libpq connection string or URI.
    ///   - usePreparedStatements: false for PgBouncer in transaction mode.
    ///   - statementTimeout: the session's `statement_timeout` (nil leaves the server's default).
    public static func connect(
        conninfo: String, usePreparedStatements: Bool = true, statementTimeout: Duration? = nil
    ) throws(PGError) -> PGConnection {
        // Defaults first, then `dbname` expanded from `conninfo`: libpq lets later values win.
        let keys = ["keepalives", "keepalives_idle", "keepalives_interval", "keepalives_count", "tcp_user_timeout", "dbname"]
        let values = ["1", "10", "5", "3", "30000", conninfo]
        let connected: OpaquePointer? = withCStrings(keys) { cKeys in
            withCStrings(values) { cValues in PQconnectdbParams(cKeys, cValues, 1) }
        }
        guard let pg = connected else {
            throw PGError(kind: .connection, message: "out of memory allocating a connection", safeToRetry: true)
        }
        guard PQstatus(pg) == CONNECTION_OK else {
            let message = PGConnection.firstLine(PQerrorMessage(pg))
            PQfinish(pg)
            throw PGError(kind: .connection, message: "could not connect: \(message)", safeToRetry: true)
        }
        // Server NOTICEs would go to stderr by default; they carry nothing callers act on.
        PQsetNoticeReceiver(pg, { _, _ in }, nil)
        let connection = PGConnection(pg: pg, usePreparedStatements: usePreparedStatements)
        let timeout = statementTimeout.map { "; SET statement_timeout TO \(max(1, Int64($0.inMilliseconds)))" } ?? ""
        try connection.unsafeExecute(
            "SET TimeZone TO 'UTC'; SET DateStyle TO 'ISO, YMD'; SET client_encoding TO 'UTF8'; SET IntervalStyle TO 'iso_8601'"
                + timeout
        )
        return connection
    }

    /// Calls `body` with a NULL-terminated array of C strings that live for the call.
    private static func withCStrings<R>(_ strings: [String], _ body: ([UnsafePointer<CChar>?]) -> R) -> R {
        let copies = strings.map { strdup($0) }
        defer { for copy in copies { free(copy) } }
        return body(copies.map { UnsafePointer($0) } + [nil])
    }

    /// False once libpq knows the connection is gone; the pool then replaces it.
    public var isHealthy: Bool {
        state.withLock { handle in
            guard let pg = handle.pg else { return false }
            return PQstatus(pg) == CONNECTION_OK
        }
    }

    /// True when the server is inside a transaction block (or an aborted one) on this connection.
    var inTransactionBlock: Bool {
        state.withLock { handle in
            guard let pg = handle.pg else { return false }
            let status = PQtransactionStatus(pg)
            return status == PQTRANS_INTRANS || status == PQTRANS_INERROR
        }
    }

    /// Closes the connection now.
    public func close() {
        state.withLock { handle in
            if let pg = handle.pg { PQfinish(pg) }
            handle.pg = nil
            handle.prepared = [:]
        }
    }

    /// Runs one statement with bound parameters and returns its rows.
    @discardableResult
    public func query(_ query: PGQuery) throws(PGError) -> PGResult {
        // libpq takes parameters as C strings: a NUL would silently cut the value. PostgreSQL text cannot hold
        // U+0000 anyway, so refuse it the way the server refuses it in text (22021), without sending anything.
        // Not `safeToRetry`: earlier statements of the unit of work may have run, and a retry would fail the same way.
        if query.binds.contains(where: { $0.text?.utf8.contains(0) == true }) {
            throw PGError(
                kind: .server, sqlState: .characterNotInRepertoire,
                message: "a parameter contains a NUL character, which PostgreSQL text cannot store")
        }
        return try state.withLock { (handle: inout Handle) throws(PGError) -> PGResult in
            guard let pg = handle.pg else {
                throw PGError(kind: .connection, message: "connection is closed")
            }
            let raw: OpaquePointer?
            if usePreparedStatements {
                raw = try executePrepared(query, pg: pg, handle: &handle)
            } else {
                raw = PGConnection.withCParameters(query.binds) { types, values in
                    PQexecParams(pg, query.sql, Int32(query.binds.count), types, values, nil, nil, 0)
                }
            }
            return try PGConnection.check(raw, pg: pg)
        }
    }

    /// Runs one statement and returns the number of rows it changed.
    @discardableResult
    public func execute(_ query: PGQuery) throws(PGError) -> Int {
        try self.query(query).affectedRows
    }

    /// Runs SQL text through the simple query protocol: no parameters, several statements allowed. For migrations
    /// and fixed session commands only; never pass text that contains input.
    public func unsafeExecute(_ sql: String) throws(PGError) {
        try state.withLock { (handle: inout Handle) throws(PGError) in
            guard let pg = handle.pg else { throw PGError(kind: .connection, message: "connection is closed") }
            _ = try PGConnection.check(PQexec(pg, sql), pg: pg)
        }
    }

    private func executePrepared(_ query: PGQuery, pg: OpaquePointer, handle: inout Handle) throws(PGError)
        -> OpaquePointer?
    {
        let oids = query.binds.map(\.oid)
        if let statement = handle.prepared[query.sql] {
            if statement.oids == oids {
                return PGConnection.withCParameters(query.binds) { _, values in
                    PQexecPrepared(pg, statement.name, Int32(query.binds.count), values, nil, nil, 0)
                }
            }
            // Same text bound with other types: run it unprepared rather than re-prepare.
            return PGConnection.withCParameters(query.binds) { types, values in
                PQexecParams(pg, query.sql, Int32(query.binds.count), types, values, nil, nil, 0)
            }
        }
        guard handle.prepared.count < PGConnection.preparedCacheLimit else {
            return PGConnection.withCParameters(query.binds) { types, values in
                PQexecParams(pg, query.sql, Int32(query.binds.count), types, values, nil, nil, 0)
            }
        }
        let name = "tb\(handle.prepared.count + 1)"
        let prepared = oids.withUnsafeBufferPointer { types in
            PQprepare(pg, name, query.sql, Int32(oids.count), types.baseAddress)
        }
        _ = try PGConnection.check(prepared, pg: pg)
        handle.prepared[query.sql] = PreparedStatement(name: name, oids: oids)
        return PGConnection.withCParameters(query.binds) { _, values in
            PQexecPrepared(pg, name, Int32(query.binds.count), values, nil, nil, 0)
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

    /// Turns a libpq result into a `PGResult` or a `PGError` with the server's fields.
    static func check(_ raw: OpaquePointer?, pg: OpaquePointer) throws(PGError) -> PGResult {
        guard let raw else {
            throw PGError(kind: .connection, message: firstLine(PQerrorMessage(pg)))
        }
        switch PQresultStatus(raw) {
        case PGRES_COMMAND_OK, PGRES_TUPLES_OK, PGRES_EMPTY_QUERY, PGRES_COPY_IN:
            return PGResult(handle: raw)
        default:
            let error = makeError(raw, pg: pg)
            PQclear(raw)
            throw error
        }
    }

    static func makeError(_ raw: OpaquePointer, pg: OpaquePointer) -> PGError {
        func field(_ code: Character) -> String? {
            guard let ascii = code.asciiValue, let pointer = PQresultErrorField(raw, Int32(ascii)) else { return nil }
            return String(cString: pointer)
        }
        let sqlState = field("C").map(SQLState.init)
        let lost = PQstatus(pg) == CONNECTION_BAD
        let message = field("M") ?? firstLine(PQresultErrorMessage(raw))
        return PGError(
            kind: lost && sqlState == nil ? .connection : .server,
            sqlState: sqlState,
            message: message,
            detail: field("D"),
            hint: field("H"),
            constraint: field("n"),
            table: field("t"),
            column: field("c")
        )
    }

    static func firstLine(_ pointer: UnsafePointer<CChar>?) -> String {
        guard let pointer else { return "unknown libpq error" }
        let text = String(cString: pointer)
        return text.split(separator: "\n").first.map(String.init) ?? "unknown libpq error"
    }
}
