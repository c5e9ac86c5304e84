import Foundation

/// Any JSON value, kept as decoded: how an event's `data.object` is held besides its typed views, so handlers can
/// read a field this module has no typed property for, and the object can be stored as it came.
public enum StripeJSON: Sendable, Equatable, Codable {
    case null
    case bool(Bool)
    /// Integers that fit in 64 bits (Stripe's ids, amounts and timestamps).
    case integer(Int64)
    case double(Double)
    case string(String)
    case array([StripeJSON])
    case object([String: StripeJSON])

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Int64.self) {
            self = .integer(value)
        } else if let value = try? container.decode(Double.self) {
            self = .double(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([StripeJSON].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: StripeJSON].self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .integer(let value): try container.encode(value)
        case .double(let value): try container.encode(value)
        case .string(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }

    /// The member `key` of an object; nil for other values or a missing key.
    public subscript(key: String) -> StripeJSON? {
        if case .object(let members) = self { return members[key] }
        return nil
    }

    /// The string, when this is one.
    public var stringValue: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    /// The integer, when this is one.
    public var integerValue: Int64? {
        if case .integer(let value) = self { return value }
        return nil
    }

    /// Compact JSON text of this value (keys sorted, so equal values give equal bytes).
    public var jsonData: Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Encoding a tree of plain JSON values cannot fail; an empty object is the defensive fallback.
        return (try? encoder.encode(self)) ?? Data("{}".utf8)
    }
}
