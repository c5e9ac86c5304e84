import Foundation

/// A keyset-pagination position in a newest-first list: the row's `created_at` in microseconds since the epoch and
/// its id, as 16 big-endian bytes in unpadded base64url (22 characters). Opaque to clients. The one cursor format of
/// every paged list (marketing clicks, Mini App invoices, the admin payment events).
public struct KeysetCursor: Sendable, Equatable {
    public var createdMicros: Int64
    public var id: Int64

    public var encoded: String {
        var bytes = [UInt8]()
        bytes.reserveCapacity(16)
        for value in [createdMicros, id] {
            for shift in stride(from: 56, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: value >> shift)) }
        }
        return Base64URL.encode(bytes)
    }

    /// 9999-12-31T23:59:59.999999Z in microseconds since 1970.
    public static let maxCreatedMicros: Int64 = 253_402_300_799_999_999

    public init(createdMicros: Int64, id: Int64) {
        self.createdMicros = createdMicros
        self.id = id
    }

    /// Parses a cursor this type encoded; nil for anything else.
    public init?(encoded: String) {
        // 16 bytes are 22 base64 characters without padding.
        guard encoded.utf8.count == 22,
            encoded.utf8.allSatisfy({ $0.isBase64URL })
        else { return nil }
        guard let bytes = Base64URL.decode(encoded), bytes.count == 16 else { return nil }
        func int64(at offset: Int) -> Int64 {
            bytes[offset..<offset + 8].reduce(Int64(0)) { $0 << 8 | Int64($1) }
        }
        createdMicros = int64(at: 0)
        id = int64(at: 8)
        // Beyond 9999-12-31 PostgreSQL's timestamp arithmetic overflows (22008); no click was created there.
        guard id > 0, (0...Self.maxCreatedMicros).contains(createdMicros) else { return nil }
    }
}

extension KeysetCursor {
    /// The position of a row created at `createdAt` (rounded to the microsecond, as PostgreSQL stores it).
    public init(createdAt: Date, id: Int64) {
        self.init(createdMicros: Int64((createdAt.timeIntervalSince1970 * 1_000_000).rounded()), id: id)
    }

    /// `created_at` of the position.
    public var createdAt: Date { Date(timeIntervalSince1970: Double(createdMicros) / 1_000_000) }
}

extension UInt8 {
    fileprivate var isBase64URL: Bool {
        (65...90).contains(self) || (97...122).contains(self) || (48...57).contains(self) || self == 45 || self == 95
    }
}
