import CLibPQ

#if canImport(Glibc)
import Glibc
#endif

/// One libpq connection in non-blocking pipeline mode.
///
/// The task that holds the connection (a pool checkout gives it to one task at a time) sends its statements itself
/// and suspends on the shared `PGReactor` until the socket has its results; no thread ever blocks in libpq. The
/// `LockedHandle` makes the connection `Sendable` (the task may resume on another thread) and keeps the pointer from
/// being used by two threads at once.
public final class PGConnection: Sendable {
    struct Handle {
        var pg: OpaquePointer?
        var socket: Int32 = -1
        /// SQL text → (statement name, parameter type OIDs) of statements prepared on this connection.
        var prepared: [String: PreparedStatement] = [:]
        /// Statement names handed out so far (`tb1`, `tb2`, …).
        var statementsNamed = 0
        /// Batches sent whose results nobody waits for (a ROLLBACK sent without waiting); read before the next one.
        var unreadBatches = 0
        var transaction: TransactionState = .none
        /// Statements of the open transaction whose results nobody needs, sent in front of the next batch.
        var deferred: [PGQuery] = []
        /// Batches whose results a caller waited for: the round trips this connection made.
        var roundTrips = 0
    }

    struct PreparedStatement {
        let name: String
        let oids: [UInt32]
    }

    /// Where the unit of work stands: BEGIN is not sent on its own but in front of the first statement.
    enum TransactionState {
        case none
        case pendingBegin(String)
        case open
    }

    /// Statements prepared per connection at most; past that, queries run unprepared.
    static let preparedCacheLimit = 512

    let state: LockedHandle<Handle>
    let canceller: PGCanceller
    let usePreparedStatements: Bool

    init(pg: OpaquePointer, usePreparedStatements: Bool) {
        self.state = LockedHandle(Handle(pg: pg, socket: PQsocket(pg)))
        self.canceller = PGCanceller(PQgetCancel(pg))
        self.usePreparedStatements = usePreparedStatements
    }

    deinit { close() }

    /// Round trips made so far: batches (pipelined statements up to a Sync, or one simple query) whose results a
    /// caller waited for. A ROLLBACK sent without waiting does not count. For tests and benchmarks.
    public var roundTrips: Int { state.withLock { $0.roundTrips } }

    /// False once libpq knows the connection is gone; the pool then replaces it.
    public var isHealthy: Bool {
        state.withLock { handle in
            guard let pg = handle.pg else { return false }
            return PQstatus(pg) == CONNECTION_OK
        }
    }

    /// True when the server is inside a transaction block (or an aborted one) and no result is outstanding.
    var inTransactionBlock: Bool {
        state.withLock { handle in
            guard let pg = handle.pg else { return false }
            if case .open = handle.transaction { return true }
            let status = PQtransactionStatus(pg)
            return status == PQTRANS_INTRANS || status == PQTRANS_INERROR
        }
    }

    /// Closes the connection now (the socket leaves the reactor first, so its number can be reused safely).
    public func close() {
        canceller.invalidate()
        state.withLock { handle in
            if let pg = handle.pg {
                PGReactor.shared.forget(socket: handle.socket)
                PQfinish(pg)
            }
            handle.pg = nil
            handle.prepared = [:]
            handle.unreadBatches = 0
            handle.transaction = .none
            handle.deferred = []
        }
    }

    /// Turns a libpq result into a `PGResult` or a `PGError` with the server's fields.
    static func check(_ raw: OpaquePointer?, pg: OpaquePointer) throws(PGError) -> PGResult {
        guard let raw else {
            throw PGError(kind: .connection, message: firstLine(PQerrorMessage(pg)))
        }
        switch PQresultStatus(raw) {
        case PGRES_COMMAND_OK, PGRES_TUPLES_OK, PGRES_EMPTY_QUERY:
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

    static func connectionError(_ pg: OpaquePointer?, _ fallback: String) -> PGError {
        let message = pg.map { firstLine(PQerrorMessage($0)) } ?? fallback
        return PGError(kind: .connection, message: message.isEmpty ? fallback : message)
    }
}
