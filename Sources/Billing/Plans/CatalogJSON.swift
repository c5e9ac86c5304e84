import PGClient

/// A JSON value as written in the catalog file, so validation can tell a missing field from a null one and a
/// whole number from a fraction or a string, and report each precisely.
typealias CatalogJSON = JSONValue

extension JSONValue {
    /// A short description of the value for error messages (strings are quoted and truncated).
    var summary: String {
        switch self {
        case .null: "null"
        case .bool(let value): "\(value)"
        case .integer(let value): "\(value)"
        case .number(let value): "\(value)"
        case .string(let value): value.count > 40 ? "\"\(value.prefix(40))…\"" : "\"\(value)\""
        case .array: "an array"
        case .object: "an object"
        }
    }
}
