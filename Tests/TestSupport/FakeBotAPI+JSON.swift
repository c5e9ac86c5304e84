import Foundation

extension FakeBotAPI {
    /// A JSON value, for reading recorded request bodies and scripting results:
    /// `call.body["prices"]?[0]?["amount"]?.int`.
    public enum JSON: Sendable, Equatable, Codable, CustomStringConvertible, ExpressibleByStringLiteral,
        ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral, ExpressibleByArrayLiteral,
        ExpressibleByDictionaryLiteral
    {
        case null
        case bool(Bool)
        case int(Int64)
        case double(Double)
        case string(String)
        case array([JSON])
        case object([String: JSON])

        public init(stringLiteral value: String) { self = .string(value) }
        public init(integerLiteral value: Int64) { self = .int(value) }
        public init(booleanLiteral value: Bool) { self = .bool(value) }
        public init(arrayLiteral elements: JSON...) { self = .array(elements) }
        public init(dictionaryLiteral elements: (String, JSON)...) {
            self = .object(Dictionary(elements, uniquingKeysWith: { _, last in last }))
        }

        /// Parses JSON text; nil when it is not JSON.
        public init?(data: Data) {
            guard let value = try? JSONDecoder().decode(JSON.self, from: data) else { return nil }
            self = value
        }

        public subscript(key: String) -> JSON? {
            if case .object(let object) = self { return object[key] }
            return nil
        }

        public subscript(index: Int) -> JSON? {
            if case .array(let array) = self, array.indices.contains(index) { return array[index] }
            return nil
        }

        public var string: String? {
            if case .string(let value) = self { return value }
            return nil
        }

        public var int: Int64? {
            switch self {
            case .int(let value): value
            case .double(let value) where value.rounded() == value: Int64(exactly: value)
            default: nil
            }
        }

        public var bool: Bool? {
            if case .bool(let value) = self { return value }
            return nil
        }

        public var array: [JSON]? {
            if case .array(let value) = self { return value }
            return nil
        }

        public var object: [String: JSON]? {
            if case .object(let value) = self { return value }
            return nil
        }

        /// Encoded JSON text.
        public var data: Data { (try? JSONEncoder().encode(self)) ?? Data("null".utf8) }

        public var description: String { String(decoding: data, as: UTF8.self) }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if container.decodeNil() {
                self = .null
            } else if let value = try? container.decode(Bool.self) {
                self = .bool(value)
            } else if let value = try? container.decode(Int64.self) {
                self = .int(value)
            } else if let value = try? container.decode(Double.self) {
                self = .double(value)
            } else if let value = try? container.decode(String.self) {
                self = .string(value)
            } else if let value = try? container.decode([JSON].self) {
                self = .array(value)
            } else {
                self = .object(try container.decode([String: JSON].self))
            }
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            switch self {
            case .null: try container.encodeNil()
            case .bool(let value): try container.encode(value)
            case .int(let value): try container.encode(value)
            case .double(let value): try container.encode(value)
            case .string(let value): try container.encode(value)
            case .array(let value): try container.encode(value)
            case .object(let value): try container.encode(value)
            }
        }
    }
}
