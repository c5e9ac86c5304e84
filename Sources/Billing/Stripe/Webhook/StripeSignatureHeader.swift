/// A parsed `Stripe-Signature` header: `t=<unix seconds>,v1=<hex>,v1=<hex>,v0=<hex>…`.
///
/// Items may come in any order and with spaces around them; schemes other than `t` and `v1` are ignored. When `t`
/// appears more than once the first one counts (as in Stripe's libraries).
public struct StripeSignatureHeader: Sendable, Equatable {
    /// The signed timestamp (`t`).
    public var timestamp: Int64
    /// Every `v1` value, as written (lowercase hex expected; anything else simply never matches).
    public var v1Signatures: [String]

    public init(timestamp: Int64, v1Signatures: [String]) {
        self.timestamp = timestamp
        self.v1Signatures = v1Signatures
    }

    /// Parses a header value.
    /// - Throws: `.missingHeader` for an empty value, `.malformedHeader` without an integer `t`, `.noV1` without a
    ///   `v1` entry.
    public init(parsing header: String) throws(StripeSignatureError) {
        let trimmedHeader = header.trimmingWhitespace
        guard !trimmedHeader.isEmpty else { throw .missingHeader }
        var timestamp: Int64?
        var signatures: [String] = []
        for item in trimmedHeader.split(separator: ",", omittingEmptySubsequences: true) {
            guard let equals = item.firstIndex(of: "=") else { continue }
            let key = item[..<equals].trimmingWhitespace
            let value = item[item.index(after: equals)...].trimmingWhitespace
            switch key {
            case "t":
                if timestamp == nil {
                    guard let parsed = Int64(value), parsed >= 0 else { throw .malformedHeader }
                    timestamp = parsed
                }
            case "v1":
                if !value.isEmpty { signatures.append(value) }
            default:
                continue
            }
        }
        guard let timestamp else { throw .malformedHeader }
        guard !signatures.isEmpty else { throw .noV1 }
        self.timestamp = timestamp
        self.v1Signatures = signatures
    }
}

extension StringProtocol {
    /// The text without leading and trailing spaces and tabs.
    var trimmingWhitespace: String {
        var scalars = Substring(self).unicodeScalars[...]
        while let first = scalars.first, first == " " || first == "\t" { scalars = scalars.dropFirst() }
        while let last = scalars.last, last == " " || last == "\t" { scalars = scalars.dropLast() }
        return String(String.UnicodeScalarView(scalars))
    }
}
