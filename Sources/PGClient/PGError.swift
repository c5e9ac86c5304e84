/// An error from PGClient: a server error with its fields, a lost connection, a pool limit or a decoding mismatch.
///
/// `description` is safe to log and to show: it names the kind, SQLSTATE, constraint, table and column but never
/// the server's `detail` (which can hold row values). `debugDescription` holds everything.
public struct PGError: Error, Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    public enum Kind: String, Sendable {
        /// The server answered with an error (see `sqlState`).
        case server
        /// The connection could not be opened or was lost.
        case connection
        /// No connection became free within the checkout timeout.
        case checkoutTimeout
        /// Too many tasks are already waiting for a connection.
        case poolExhausted
        /// The pool has been shut down.
        case poolClosed
        /// A value could not be decoded into the requested Swift type.
        case decoding
        /// The caller used the API wrongly (unknown column, COPY misuse, ...).
        case usage
    }

    public var kind: Kind
    public var sqlState: SQLState?
    public var message: String
    public var detail: String?
    public var hint: String?
    public var constraint: String?
    public var table: String?
    public var column: String?
    /// True when no statement of the unit of work reached the server, so running it again cannot apply anything twice.
    public var safeToRetry: Bool

    public init(
        kind: Kind, sqlState: SQLState? = nil, message: String, detail: String? = nil, hint: String? = nil,
        constraint: String? = nil, table: String? = nil, column: String? = nil, safeToRetry: Bool = false
    ) {
        self.kind = kind
        self.sqlState = sqlState
        self.message = message
        self.detail = detail
        self.hint = hint
        self.constraint = constraint
        self.table = table
        self.column = column
        self.safeToRetry = safeToRetry
    }

    /// Serialization failures and deadlocks: the whole transaction may be run again.
    public var isTransactionRetryable: Bool {
        sqlState == .serializationFailure || sqlState == .deadlockDetected
    }

    /// The connection is gone (network, server restart, admin shutdown).
    public var isConnectionLost: Bool {
        kind == .connection || sqlState?.errorClass == "08" || sqlState == .adminShutdown
            || sqlState == .crashShutdown || sqlState == .cannotConnectNow
    }

    public var description: String {
        var parts = ["PGError(\(kind.rawValue)"]
        if let sqlState { parts.append("sqlstate \(sqlState.code)") }
        if let constraint { parts.append("constraint \(constraint)") }
        if let table { parts.append("table \(table)") }
        if let column { parts.append("column \(column)") }
        // Server messages name objects, not values (values are in `detail`), except data exceptions (class 22),
        // whose message quotes the offending input: those are summarised.
        if kind == .server, sqlState?.errorClass == "22" {
            parts.append("invalid data")
        } else {
            parts.append(message)
        }
        return parts.joined(separator: ", ") + ")"
    }

    public var debugDescription: String {
        var text = description
        if let detail { text += " detail: \(detail)" }
        if let hint { text += " hint: \(hint)" }
        return text
    }
}
