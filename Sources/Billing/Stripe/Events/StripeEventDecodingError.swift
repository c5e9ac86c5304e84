/// Why a Stripe event (or one of its typed views) could not be decoded. The webhook answers 400 for an envelope that
/// does not decode, and stores the event as failed when a typed view does not.
///
/// Paths are dotted JSON paths such as `data.object.lines.data[0].period.end`. Descriptions never echo values.
public enum StripeEventDecodingError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The body is not JSON, or not a JSON object, or holds a number out of range for a `Double` (such as `1e400`).
    case malformedJSON
    /// A required field is absent or null.
    case missingField(path: String)
    /// A field has the wrong JSON type (for instance a string where an integer belongs).
    case wrongType(path: String)
    /// A field has a value this module cannot use (for instance an empty id).
    case invalidValue(path: String)
    /// `data.object.object` names another kind of object than the view asked for.
    case unexpectedObject(expected: String, actual: String)

    public var description: String {
        switch self {
        case .malformedJSON: "stripe event is not a readable JSON object"
        case .missingField(let path): "stripe event is missing required field \(path)"
        case .wrongType(let path): "stripe event field \(path) has the wrong type"
        case .invalidValue(let path): "stripe event field \(path) has an invalid value"
        case .unexpectedObject(let expected, let actual): "stripe event carries a \(actual) where a \(expected) was expected"
        }
    }

    /// Maps a Foundation `DecodingError` to a typed error with a JSON path.
    static func from(_ error: any Error) -> StripeEventDecodingError {
        if let typed = error as? StripeEventDecodingError { return typed }
        guard let decodingError = error as? DecodingError else { return .malformedJSON }
        switch decodingError {
        case .keyNotFound(let key, let context):
            return .missingField(path: path(context.codingPath + [key]))
        case .valueNotFound(_, let context):
            return .missingField(path: path(context.codingPath))
        case .typeMismatch(_, let context):
            return context.codingPath.isEmpty ? .malformedJSON : .wrongType(path: path(context.codingPath))
        case .dataCorrupted(let context):
            return context.codingPath.isEmpty ? .malformedJSON : .invalidValue(path: path(context.codingPath))
        @unknown default:
            return .malformedJSON
        }
    }

    static func path(_ codingPath: [any CodingKey]) -> String {
        var text = ""
        for key in codingPath {
            if let index = key.intValue {
                text += "[\(index)]"
            } else {
                text += text.isEmpty ? key.stringValue : "." + key.stringValue
            }
        }
        return text
    }
}
