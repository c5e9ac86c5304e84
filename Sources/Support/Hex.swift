/// Hex encoding (lower case) and strict decoding, for hashes, keys and signatures.
public enum Hex {
    /// Lower-case hex digits of `bytes`.
    public static func encode(_ bytes: some Sequence<UInt8>) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.underestimatedCount * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The bytes of an even-length hex string, or nil when it is anything else.
    /// - Parameters:
    ///   - string: the hex digits.
    ///   - allowUppercase: whether `A`–`F` are digits too (false: only lower case decodes).
    public static func decode(_ string: String, allowUppercase: Bool = true) -> [UInt8]? {
        let chars = Array(string.utf8)
        guard chars.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(chars.count / 2)
        var index = 0
        while index < chars.count {
            guard let high = value(chars[index], allowUppercase: allowUppercase),
                let low = value(chars[index + 1], allowUppercase: allowUppercase)
            else { return nil }
            bytes.append(high << 4 | low)
            index += 2
        }
        return bytes
    }

    /// The value of one hex digit (nil for anything else).
    public static func value(_ char: UInt8, allowUppercase: Bool = true) -> UInt8? {
        switch char {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): char - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): char - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F") where allowUppercase: char - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
