import Foundation
import Logging

/// `LOG_FORMAT=text`: one line per event, for people:
///
///     2025-01-02T03:04:05.678Z info telebot: request duration_ms=1.2 method=GET request_id=… route=/health/ready
///
/// Control characters in the message and in values are escaped (`\n`, `\r`, `\t`, `\\`, other C0 and DEL as
/// `\u{XX}`), so a value can never forge a second log line; a value with spaces, quotes or `=` is quoted.
struct TextLogHandler: LogHandler {
    let label: String
    let sink: LogSink
    var logLevel: Logger.Level
    var metadata: Logger.Metadata = [:]
    var metadataProvider: Logger.MetadataProvider?

    init(label: String, sink: LogSink = .standardOutput, level: Logger.Level = .info) {
        self.label = label
        self.sink = sink
        self.logLevel = level
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { _, new in new } }
        if let own = event.metadata { merged.merge(own) { _, new in new } }
        if merged["request_id"] != nil { merged["hb.request.id"] = nil }
        var line =
            RFC3339.now() + " " + event.level.rawValue + " " + Self.escaped(label) + ": "
            + Self.escaped(event.message.description)
        for key in merged.keys.sorted() {
            guard let value = merged[key] else { continue }
            line += " " + Self.escaped(key) + "=" + Self.quotedIfNeeded(Self.escaped(Self.text(value)))
        }
        sink.write(line)
    }

    static func text(_ value: Logger.Metadata.Value) -> String {
        switch value {
        case .string(let string): string
        case .stringConvertible(let convertible): convertible.description
        case .array(let values): "[" + values.map(text).joined(separator: ", ") + "]"
        case .dictionary(let dictionary):
            "[" + dictionary.keys.sorted().map { "\($0): \(dictionary[$0].map(text) ?? "")" }.joined(separator: ", ") + "]"
        }
    }

    /// Control characters (C0, DEL) and backslashes escaped.
    static func escaped(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F || $0 == "\\" }) else { return text }
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\\": out += "\\\\"
            case _ where scalar.value < 0x20 || scalar.value == 0x7F:
                let hex = String(scalar.value, radix: 16)
                out += "\\u{" + (hex.count < 2 ? "0" : "") + hex + "}"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    static func quotedIfNeeded(_ text: String) -> String {
        guard text.isEmpty || text.contains(where: { $0 == " " || $0 == "\"" || $0 == "=" }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }
}
