/// Telegram's `ResponseParameters`: why a request failed and what to do about it.
public struct ResponseParameters: Codable, Sendable, Equatable {
    /// The group was migrated to a supergroup with this id.
    public var migrateToChatID: Int64?
    /// Seconds to wait before repeating the request (flood control).
    public var retryAfter: Int?

    /// - Parameters:
    ///   - migrateToChatID: `migrate_to_chat_id`.
    ///   - retryAfter: `retry_after` in seconds.
    public init(migrateToChatID: Int64? = nil, retryAfter: Int? = nil) {
        self.migrateToChatID = migrateToChatID
        self.retryAfter = retryAfter
    }

    enum CodingKeys: String, CodingKey {
        case migrateToChatID = "migrate_to_chat_id"
        case retryAfter = "retry_after"
    }
}

/// The envelope of every Bot API answer, without the result.
struct BotAPIEnvelopeHead: Decodable {
    var ok: Bool
    var errorCode: Int?
    var description: String?
    var parameters: ResponseParameters?

    enum CodingKeys: String, CodingKey {
        case ok
        case errorCode = "error_code"
        case description
        case parameters
    }
}

/// The `result` of a successful answer.
struct BotAPIResultEnvelope<Result: Decodable>: Decodable {
    var result: Result
}
