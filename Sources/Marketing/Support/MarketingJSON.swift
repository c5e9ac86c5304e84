/// A JSON value, as stored in `marketing_clicks.metadata`.
///
/// Integers decode as `.integer` (exact up to 64 bits); other numbers as `.number`.
public enum MarketingJSON: Sendable, Hashable, Codable {
    case null
    case bool(Bool)
    case integer(Int64)
    case number(Double)
    case string(String)
    case array([MarketingJSON])
    case object([String: MarketingJSON])

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Int64.self) {
            self = .integer(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([MarketingJSON].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: MarketingJSON].self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .integer(let value): try container.encode(value)
        case .number(let value): try container.encode(value)
        case .string(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }

    /// True when a string or key anywhere in the value contains U+0000, which PostgreSQL's jsonb cannot store.
    var containsNUL: Bool {
        switch self {
        case .null, .bool, .integer, .number: false
        case .string(let value): value.utf8.contains(0)
        case .array(let values): values.contains { $0.containsNUL }
        case .object(let values): values.contains { $0.key.utf8.contains(0) || $0.value.containsNUL }
        }
    }
}
