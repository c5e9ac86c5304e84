import Foundation

/// A chat to send to: a numeric id, or `@username` for public channels and groups.
public enum ChatID: Codable, Sendable, Hashable, ExpressibleByIntegerLiteral, ExpressibleByStringLiteral,
    CustomStringConvertible
{
    case id(Int64)
    case username(String)

    public init(integerLiteral value: Int64) { self = .id(value) }
    public init(stringLiteral value: String) { self.init(value) }

    /// Parses configuration such as `MARKETING_CHANNEL_ID`: a number (`-1001234567890`) is an id, anything else a
    /// username (`@` added when missing).
    public init(_ text: String) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if let id = Int64(trimmed) {
            self = .id(id)
        } else {
            self = .username(trimmed.hasPrefix("@") ? trimmed : "@" + trimmed)
        }
    }

    public var description: String {
        switch self {
        case .id(let id): String(id)
        case .username(let name): name
        }
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let id = try? container.decode(Int64.self) {
            self = .id(id)
        } else {
            self = .username(try container.decode(String.self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .id(let id): try container.encode(id)
        case .username(let name): try container.encode(name)
        }
    }
}
