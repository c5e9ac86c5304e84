import Foundation
import Support

/// A check the `JSONValue` tree used to make as a side effect: every number in an event body must be readable as a
/// `Double` (`1e400` is valid JSON syntax, and PostgreSQL's jsonb stores it, but no decoder here can read it back).
/// The body is no longer decoded into a tree, so this one pass over the bytes keeps such events refused (400).
enum StripeJSONNumbers {
    /// True when every number outside strings is finite as a `Double`. Only numbers with an exponent or more than
    /// 300 characters can overflow, so only those are parsed.
    static func allFinite(_ body: Data) -> Bool {
        body.withUnsafeBytes { bytes -> Bool in
            var index = 0
            var inString = false
            while index < bytes.count {
                let byte = bytes[index]
                if inString {
                    if byte == UInt8(ascii: "\\") {
                        index += 2
                        continue
                    }
                    if byte == UInt8(ascii: "\"") { inString = false }
                    index += 1
                    continue
                }
                if byte == UInt8(ascii: "\"") {
                    inString = true
                    index += 1
                    continue
                }
                guard byte == UInt8(ascii: "-") || isDigit(byte) else {
                    index += 1
                    continue
                }
                let start = index
                var hasExponent = false
                while index < bytes.count, isNumberByte(bytes[index]) {
                    if bytes[index] | 0x20 == UInt8(ascii: "e") { hasExponent = true }
                    index += 1
                }
                if hasExponent || index - start > 300 {
                    let text = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
                    guard let value = Double(text), value.isFinite else { return false }
                }
            }
            return true
        }
    }

    private static func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }

    private static func isNumberByte(_ byte: UInt8) -> Bool {
        isDigit(byte) || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "+") || byte == UInt8(ascii: ".")
            || byte | 0x20 == UInt8(ascii: "e")
    }
}
