import Support

/// Decoding helpers shared by the typed views of Stripe objects.

/// A coding key made from any string (for the keys of nested objects read ad hoc).
struct StripeKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(_ string: String) { self.stringValue = string }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

/// A Stripe object with an `object` discriminator (`"invoice"`, `"checkout.session"`…).
protocol StripeObjectView: Decodable, Sendable {
    static var objectType: String { get }
}

extension KeyedDecodingContainer {
    /// A required, non-empty string.
    func decodeRequiredString(_ key: Key) throws -> String {
        let value = try decode(String.self, forKey: key)
        guard !value.isEmpty else {
            throw DecodingError.dataCorruptedError(forKey: key, in: self, debugDescription: "empty")
        }
        return value
    }

    /// An expandable reference: Stripe sends an id string, or the whole object when expanded; both give the id.
    func decodeStripeID(_ key: Key) throws -> String? {
        guard contains(key), try !decodeNil(forKey: key) else { return nil }
        if let id = try? decode(String.self, forKey: key) { return id }
        let nested = try nestedContainer(keyedBy: StripeKey.self, forKey: key)
        return try nested.decode(String.self, forKey: StripeKey("id"))
    }

    /// Metadata: string values as sent; absent or null is empty. Scalars that are not strings are kept as text
    /// (Stripe always sends strings; hand-written test payloads sometimes do not).
    func decodeMetadata(_ key: Key) throws -> [String: String] {
        guard let raw = try decodeIfPresent([String: JSONValue].self, forKey: key) else { return [:] }
        var metadata: [String: String] = [:]
        for (name, value) in raw {
            switch value {
            case .string(let text): metadata[name] = text
            case .integer(let number): metadata[name] = String(number)
            case .number(let number): metadata[name] = String(number)
            case .bool(let flag): metadata[name] = String(flag)
            case .null, .array, .object: continue
            }
        }
        return metadata
    }

    /// Checks the `object` discriminator when present.
    func checkObjectType(_ expected: String, key: Key) throws {
        if let actual = try decodeIfPresent(String.self, forKey: key), actual != expected {
            throw StripeEventDecodingError.unexpectedObject(expected: expected, actual: actual)
        }
    }
}

/// `{"data": [...]}` lists (invoice lines, subscription items).
struct StripeList<Element: Decodable & Sendable>: Decodable, Sendable {
    var data: [Element]

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: StripeKey.self)
        self.data = try container.decodeIfPresent([Element].self, forKey: StripeKey("data")) ?? []
    }
}

/// `{"id": "..."}`: a price or similar reference where only the id matters.
struct StripeIDOnly: Decodable, Sendable {
    var id: String?
}

/// Metadata holder (`subscription_details`, `parent.subscription_details`).
struct StripeMetadataHolder: Decodable, Sendable {
    var metadata: [String: String]
    var subscription: String?

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: StripeKey.self)
        self.metadata = try container.decodeMetadata(StripeKey("metadata"))
        self.subscription = try container.decodeStripeID(StripeKey("subscription"))
    }
}
