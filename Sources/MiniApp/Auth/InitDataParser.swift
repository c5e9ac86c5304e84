import Support

/// One decoded `key=value` pair of initData, in the order received.
public struct InitDataPair: Sendable, Equatable {
    public let key: String
    public let value: String

    public init(key: String, value: String) {
        self.key = key
        self.value = value
    }
}

/// Splits raw initData exactly as Telegram signs it: on `&`, then each pair on its FIRST `=`, and only then
/// percent-decodes key and value (`+` is a space). Values are kept byte for byte as decoded, so JSON such as the
/// `user` object keeps its `\/` escapes; nothing is ever re-serialised.
public struct InitDataParser: Sendable {
    /// Longer input is refused before any work (real initData is well under 4 KiB).
    public let maxLength: Int
    /// More pairs than this are refused (Telegram sends about ten).
    public let maxPairs: Int

    /// - Parameters:
    ///   - maxLength: the longest raw string accepted, in UTF-8 bytes.
    ///   - maxPairs: the most `key=value` pairs accepted.
    public init(maxLength: Int = 16 * 1024, maxPairs: Int = 64) {
        self.maxLength = maxLength
        self.maxPairs = maxPairs
    }

    /// Parses raw initData into its pairs, in the order received.
    /// - Parameter raw: the query string from `Telegram.WebApp.initData`.
    /// - Throws: `InitDataError.empty`, `.tooLarge`, `.malformed`, `.duplicateKey`.
    public func parse(_ raw: String) throws(InitDataError) -> [InitDataPair] {
        let bytes = Array(raw.utf8)
        guard !bytes.isEmpty else { throw .empty }
        guard bytes.count <= maxLength else { throw .tooLarge }
        var pairs: [InitDataPair] = []
        var seen: Set<String> = []
        for piece in bytes.split(separator: UInt8(ascii: "&"), omittingEmptySubsequences: false) {
            guard pairs.count < maxPairs else { throw .malformed(reason: "too many pairs") }
            guard let equals = piece.firstIndex(of: UInt8(ascii: "=")) else {
                throw .malformed(reason: piece.isEmpty ? "empty pair" : "pair without '='")
            }
            let key = try Self.percentDecode(piece[piece.startIndex..<equals])
            let value = try Self.percentDecode(piece[piece.index(after: equals)...])
            guard !key.isEmpty else { throw .malformed(reason: "empty key") }
            guard seen.insert(key).inserted else { throw .duplicateKey(key) }
            pairs.append(InitDataPair(key: key, value: value))
        }
        return pairs
    }

    /// `application/x-www-form-urlencoded` decoding of one component: `+` is a space, `%XX` a byte; the result must
    /// be UTF-8. A `%` not followed by two hex digits is refused rather than guessed at.
    static func percentDecode(_ component: ArraySlice<UInt8>) throws(InitDataError) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(component.count)
        var index = component.startIndex
        while index < component.endIndex {
            let byte = component[index]
            switch byte {
            case UInt8(ascii: "+"):
                out.append(UInt8(ascii: " "))
                index += 1
            case UInt8(ascii: "%"):
                guard component.endIndex - index >= 3,
                    let high = Hex.value(component[index + 1]), let low = Hex.value(component[index + 2])
                else { throw .malformed(reason: "bad percent escape") }
                out.append(high << 4 | low)
                index += 3
            default:
                out.append(byte)
                index += 1
            }
        }
        guard let string = String(validating: out, as: UTF8.self) else {
            throw .malformed(reason: "not UTF-8")
        }
        return string
    }
}
