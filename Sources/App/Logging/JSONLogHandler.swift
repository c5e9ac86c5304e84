import Foundation
import Logging

/// A swift-log handler writing one JSON object per line:
///
///     {"ts":"2025-01-02T03:04:05.678Z","level":"info","logger":"telebot","msg":"request","method":"GET",
///      "route":"/health/ready","status":200,"duration_ms":1.234,"request_id":"…"}
///
/// `ts` is RFC 3339 UTC with milliseconds. Metadata (handler, provider, then the call's, later ones winning) is
/// flattened into the object; a key that collides with `ts`, `level`, `logger` or `msg` gets a `meta.` prefix.
/// Integers, floating point numbers and booleans logged as `.stringConvertible` are written as JSON numbers and
/// booleans; nested dictionaries and arrays as JSON objects and arrays.
struct JSONLogHandler: LogHandler {
    let label: String
    let sink: LogSink
    var logLevel: Logger.Level
    var metadata: Logger.Metadata = [:]
    var metadataProvider: Logger.MetadataProvider?

    init(
        label: String, sink: LogSink = .standardOutput, level: Logger.Level = .info,
        metadataProvider: Logger.MetadataProvider? = nil
    ) {
        self.label = label
        self.sink = sink
        self.logLevel = level
        self.metadataProvider = metadataProvider
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    static let reservedKeys: Set<String> = ["ts", "level", "logger", "msg"]

    func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { _, new in new } }
        if let own = event.metadata { merged.merge(own) { _, new in new } }
        // RequestIDMiddleware mirrors request_id into Hummingbird's key; write it once.
        if merged["request_id"] != nil { merged["hb.request.id"] = nil }

        var line = "{\"ts\":"
        JSONText.appendString(RFC3339.now(), to: &line)
        line += ",\"level\":"
        JSONText.appendString(event.level.rawValue, to: &line)
        line += ",\"logger\":"
        JSONText.appendString(label, to: &line)
        line += ",\"msg\":"
        JSONText.appendString(event.message.description, to: &line)
        for key in merged.keys.sorted() {
            guard let value = merged[key] else { continue }
            line += ","
            JSONText.appendString(JSONLogHandler.reservedKeys.contains(key) ? "meta." + key : key, to: &line)
            line += ":"
            JSONText.append(value, to: &line)
        }
        line += "}"
        sink.write(line)
    }
}
