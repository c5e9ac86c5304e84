import Logging

/// Minimal JSON writing for log lines (no Foundation encoder: it is per log line and must not fail).
enum JSONText {
    static func appendString(_ string: String, to out: inout String) {
        out.append("\"")
        // Most strings need no escape: appended whole. 0xE2 starts U+2028 and U+2029 (and other characters, which
        // then take the slow path and are copied as they are).
        guard string.utf8.contains(where: { $0 < 0x20 || $0 == 0x22 || $0 == 0x5C || $0 == 0xE2 }) else {
            out.append(string)
            out.append("\"")
            return
        }
        for scalar in string.unicodeScalars {
            switch scalar {
            case "\"": out.append("\\\"")
            case "\\": out.append("\\\\")
            case "\n": out.append("\\n")
            case "\r": out.append("\\r")
            case "\t": out.append("\\t")
            case _ where scalar.value < 0x20 || scalar.value == 0x2028 || scalar.value == 0x2029:
                let hex = String(scalar.value, radix: 16)
                out.append("\\u" + String(repeating: "0", count: 4 - hex.count) + hex)
            default: out.unicodeScalars.append(scalar)
            }
        }
        out.append("\"")
    }

    static func append(_ value: Logger.Metadata.Value, to out: inout String) {
        switch value {
        case .string(let string):
            appendString(string, to: &out)
        case .stringConvertible(let convertible):
            switch convertible {
            case let number as any BinaryInteger:
                out.append("\(number)")
            case let number as Double where number.isFinite:
                out.append("\(number)")
            case let number as Float where number.isFinite:
                out.append("\(number)")
            case let flag as Bool:
                out.append(flag ? "true" : "false")
            default:
                appendString(convertible.description, to: &out)
            }
        case .array(let values):
            out.append("[")
            for (index, element) in values.enumerated() {
                if index > 0 { out.append(",") }
                append(element, to: &out)
            }
            out.append("]")
        case .dictionary(let dictionary):
            out.append("{")
            for (index, key) in dictionary.keys.sorted().enumerated() {
                if index > 0 { out.append(",") }
                appendString(key, to: &out)
                out.append(":")
                if let element = dictionary[key] { append(element, to: &out) }
            }
            out.append("}")
        }
    }
}
