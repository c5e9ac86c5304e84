/// A PostgreSQL SQLSTATE error code (five characters), with names for the ones callers decide on.
public struct SQLState: Hashable, Sendable, CustomStringConvertible {
    /// The five-character code, e.g. `23505`.
    public let code: String

    public init(_ code: String) { self.code = code }

    public var description: String { code }

    public static let uniqueViolation = SQLState("23505")
    public static let foreignKeyViolation = SQLState("23503")
    public static let checkViolation = SQLState("23514")
    public static let notNullViolation = SQLState("23502")
    public static let exclusionViolation = SQLState("23P01")
    public static let serializationFailure = SQLState("40001")
    public static let deadlockDetected = SQLState("40P01")
    public static let lockNotAvailable = SQLState("55P03")
    public static let queryCanceled = SQLState("57014")
    public static let adminShutdown = SQLState("57P01")
    public static let crashShutdown = SQLState("57P02")
    public static let cannotConnectNow = SQLState("57P03")
    public static let undefinedTable = SQLState("42P01")
    public static let syntaxError = SQLState("42601")
    public static let invalidTextRepresentation = SQLState("22P02")
    public static let characterNotInRepertoire = SQLState("22021")
    public static let objectInUse = SQLState("55006")
    public static let duplicateDatabase = SQLState("42P04")

    /// The SQLSTATE class (first two characters), e.g. `08` for connection exceptions.
    public var errorClass: Substring { code.prefix(2) }
}
