import Foundation

/// base64url (RFC 4648 §5): encoding without padding, decoding with padding optional (Telegram sends none).
public enum Base64URL {
    /// `bytes` in base64url, without `=` padding.
    public static func encode(_ bytes: some Sequence<UInt8>) -> String {
        Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// The bytes of a base64url string, or nil when it is not one (`+` and `/` are refused).
    public static func decode(_ string: String) -> [UInt8]? {
        var base64 = ""
        base64.reserveCapacity(string.utf8.count + 3)
        for char in string.unicodeScalars {
            switch char {
            case "-": base64.unicodeScalars.append("+")
            case "_": base64.unicodeScalars.append("/")
            case "+", "/": return nil
            default: base64.unicodeScalars.append(char)
            }
        }
        let unpadded = base64.hasSuffix("=") ? base64 : base64 + String(repeating: "=", count: (4 - base64.utf8.count % 4) % 4)
        return Data(base64Encoded: unpadded).map { Array($0) }
    }
}
