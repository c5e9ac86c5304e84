/// A Swift value that can be bound as a query parameter.
public protocol PGEncodable: Sendable {
    /// The parameter in PostgreSQL text format.
    func pgBind() -> PGBind
    /// The type OID a NULL of this type binds with (0: let the server infer it).
    static var pgTypeOID: UInt32 { get }
}

extension PGEncodable {
    public static var pgTypeOID: UInt32 { PGType.unspecified }
}

/// A raw column value handed to `PGDecodable`: the bytes of its text form and its type OID.
public struct PGValue {
    public let bytes: UnsafeBufferPointer<UInt8>
    public let oid: UInt32

    public var string: String { String(decoding: bytes, as: UTF8.self) }
}

/// Why a value could not be decoded; `PGRow` turns it into a `PGError` naming the column.
public struct PGDecodingFailure: Error {
    public var reason: String
    public init(_ reason: String) { self.reason = reason }

    static func typeMismatch(_ swiftType: String, _ oid: UInt32) -> PGDecodingFailure {
        PGDecodingFailure("cannot decode \(PGType.name(of: oid)) as \(swiftType)")
    }
}

/// A Swift type that can be read from a result column.
public protocol PGDecodable {
    /// Decodes a non-NULL value.
    static func pgDecode(_ value: PGValue) throws(PGDecodingFailure) -> Self
    /// The value for SQL NULL; throws for non-optional types.
    static func pgDecodeNull() throws(PGDecodingFailure) -> Self
}

extension PGDecodable {
    public static func pgDecodeNull() throws(PGDecodingFailure) -> Self {
        throw PGDecodingFailure("unexpected NULL for non-optional \(Self.self)")
    }
}

public typealias PGCodable = PGEncodable & PGDecodable

extension Optional: PGEncodable where Wrapped: PGEncodable {
    public func pgBind() -> PGBind {
        switch self {
        case .some(let value): value.pgBind()
        case .none: PGBind(oid: Wrapped.pgTypeOID, text: nil)
        }
    }

    public static var pgTypeOID: UInt32 { Wrapped.pgTypeOID }
}

extension Optional: PGDecodable where Wrapped: PGDecodable {
    public static func pgDecode(_ value: PGValue) throws(PGDecodingFailure) -> Wrapped? {
        try Wrapped.pgDecode(value)
    }

    public static func pgDecodeNull() throws(PGDecodingFailure) -> Wrapped? { nil }
}
