/// An `application/x-www-form-urlencoded` body in Stripe's bracket notation: `metadata[user_id]=1`,
/// `line_items[0][price]=price_123`, `subscription_data[metadata][plan]=premium`.
///
/// Fields keep the order they were added in (metadata keys sorted), so bodies are deterministic: a retry sends the
/// very same bytes. Brackets stay literal in names, as Stripe's Node library sends them; everything else outside
/// the unreserved set is percent-encoded.
public struct StripeForm: Sendable, Equatable {
    /// One `name=value` pair, not yet encoded.
    public struct Field: Sendable, Equatable {
        public var name: String
        public var value: String
    }

    public private(set) var fields: [Field] = []

    public init() {}

    /// Adds `name=value`; a nil value adds nothing.
    public mutating func add(_ name: String, _ value: String?) {
        guard let value else { return }
        fields.append(Field(name: name, value: value))
    }

    /// Adds `name=value` for an integer; nil adds nothing.
    public mutating func add(_ name: String, _ value: Int?) {
        add(name, value.map(String.init))
    }

    /// Adds `name[key]=value` for each entry, keys sorted.
    public mutating func add(_ name: String, metadata: [String: String]) {
        for key in metadata.keys.sorted() {
            add("\(name)[\(key)]", metadata[key])
        }
    }

    /// The encoded body.
    public var encoded: String {
        fields.map { Self.encode($0.name, keepBrackets: true) + "=" + Self.encode($0.value, keepBrackets: false) }
            .joined(separator: "&")
    }

    /// Percent-encodes UTF-8 outside `A-Z a-z 0-9 - . _ ~` (and `[` `]` in names).
    static func encode(_ text: String, keepBrackets: Bool) -> String {
        var output = ""
        output.reserveCapacity(text.utf8.count)
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                UInt8(ascii: "~"):
                output.unicodeScalars.append(Unicode.Scalar(byte))
            case UInt8(ascii: "[") where keepBrackets, UInt8(ascii: "]") where keepBrackets:
                output.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                output += "%" + hexDigits[Int(byte >> 4)] + hexDigits[Int(byte & 0x0F)]
            }
        }
        return output
    }

    private static let hexDigits = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "A", "B", "C", "D", "E", "F"]
}
