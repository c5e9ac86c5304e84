import Foundation
import PGClient
import Support

extension FakeBotAPI {
    /// A JSON value, for reading recorded request bodies and scripting results:
    /// `call.body["prices"]?[0]?["amount"]?.int`.
    public typealias JSON = JSONValue
}

extension JSONValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByBooleanLiteral, ExpressibleByArrayLiteral,
    ExpressibleByDictionaryLiteral, CustomStringConvertible
{
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int64) { self = .integer(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self = .object(Dictionary(elements, uniquingKeysWith: { _, last in last }))
    }

    /// Parses JSON text; nil when it is not JSON.
    public init?(data: Data) {
        guard let value = try? JSONDecoder().decode(JSONValue.self, from: data) else { return nil }
        self = value
    }

    public subscript(index: Int) -> JSONValue? {
        if case .array(let array) = self, array.indices.contains(index) { return array[index] }
        return nil
    }

    public var string: String? { stringValue }

    /// The integer, also from a whole floating-point number.
    public var int: Int64? {
        switch self {
        case .integer(let value): value
        case .number(let value) where value.rounded() == value: Int64(exactly: value)
        default: nil
        }
    }

    public var bool: Bool? {
        if case .bool(let value) = self { return value }
        return nil
    }

    public var array: [JSONValue]? {
        if case .array(let value) = self { return value }
        return nil
    }

    public var object: [String: JSONValue]? {
        if case .object(let value) = self { return value }
        return nil
    }

    /// Encoded JSON text.
    public var data: Data { (try? JSONEncoder().encode(self)) ?? Data("null".utf8) }

    public var description: String { String(decoding: data, as: UTF8.self) }
}
