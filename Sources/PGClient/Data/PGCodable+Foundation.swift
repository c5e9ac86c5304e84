import Foundation

extension UUID: PGCodable {
    public static var pgTypeOID: UInt32 { PGType.uuid }

    public func pgBind() -> PGBind { PGBind(oid: PGType.uuid, text: uuidString) }

    public static func pgDecode(_ value: PGValue) throws(PGDecodingFailure) -> UUID {
        guard value.oid == PGType.uuid || value.oid == PGType.text || value.oid == PGType.varchar else {
            throw .typeMismatch("UUID", value.oid)
        }
        guard let uuid = UUID(uuidString: value.string) else { throw PGDecodingFailure("invalid uuid text") }
        return uuid
    }
}

/// `Data` binds and decodes as `bytea` in hex format (`\x...`).
extension Data: PGCodable {
    public static var pgTypeOID: UInt32 { PGType.bytea }

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    public func pgBind() -> PGBind {
        var bytes = [UInt8]()
        bytes.reserveCapacity(2 + count * 2)
        bytes.append(UInt8(ascii: "\\"))
        bytes.append(UInt8(ascii: "x"))
        for byte in self {
            bytes.append(Data.hexDigits[Int(byte >> 4)])
            bytes.append(Data.hexDigits[Int(byte & 0x0f)])
        }
        return PGBind(oid: PGType.bytea, text: String(decoding: bytes, as: UTF8.self))
    }

    public static func pgDecode(_ value: PGValue) throws(PGDecodingFailure) -> Data {
        guard value.oid == PGType.bytea else { throw .typeMismatch("Data", value.oid) }
        let bytes = value.bytes
        guard bytes.count >= 2, bytes[0] == UInt8(ascii: "\\"), bytes[1] == UInt8(ascii: "x"), bytes.count % 2 == 0
        else {
            throw PGDecodingFailure("bytea is not in hex format")
        }
        var data = Data(capacity: (bytes.count - 2) / 2)
        var index = 2
        while index < bytes.count {
            guard let high = hexValue(bytes[index]), let low = hexValue(bytes[index + 1]) else {
                throw PGDecodingFailure("invalid bytea hex digit")
            }
            data.append(high << 4 | low)
            index += 2
        }
        return data
    }

    private static func hexValue(_ char: UInt8) -> UInt8? {
        switch char {
        case 48...57: char - 48
        case 97...102: char - 87
        case 65...70: char - 55
        default: nil
        }
    }
}

/// A `Codable` value stored as `jsonb`. Bind `PGJSON(value)`; decode `PGJSON<T>.self` and read `.value`.
public struct PGJSON<Value: Codable & Sendable>: PGCodable, Sendable {
    public static var pgTypeOID: UInt32 { PGType.jsonb }

    public var value: Value

    public init(_ value: Value) { self.value = value }

    public func pgBind() -> PGBind {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        let text = (try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? "null"
        return PGBind(oid: PGType.jsonb, text: text)
    }

    public static func pgDecode(_ value: PGValue) throws(PGDecodingFailure) -> PGJSON<Value> {
        guard value.oid == PGType.jsonb || value.oid == PGType.json || value.oid == PGType.text else {
            throw .typeMismatch("PGJSON<\(Value.self)>", value.oid)
        }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        do {
            return PGJSON(try decoder.decode(Value.self, from: Data(value.bytes)))
        } catch {
            throw PGDecodingFailure("json does not match \(Value.self)")
        }
    }
}

/// JSON text already serialised by the caller (for example a webhook's raw body), bound as `jsonb` unchanged.
public struct PGRawJSON: PGCodable, Sendable, Hashable {
    public static var pgTypeOID: UInt32 { PGType.jsonb }

    public var text: String

    public init(_ text: String) { self.text = text }

    public func pgBind() -> PGBind { PGBind(oid: PGType.jsonb, text: text) }

    public static func pgDecode(_ value: PGValue) throws(PGDecodingFailure) -> PGRawJSON {
        guard value.oid == PGType.jsonb || value.oid == PGType.json else { throw .typeMismatch("PGRawJSON", value.oid) }
        return PGRawJSON(value.string)
    }
}
