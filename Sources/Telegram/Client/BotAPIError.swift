/// A failed Bot API call. Never contains the bot token: every text taken from a response or a transport error is
/// redacted (`bot<redacted>`) before it is stored here.
public struct BotAPIError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What went wrong.
    public enum Kind: String, Sendable, Equatable {
        /// Telegram answered `ok: false` (`errorCode`, `apiDescription`, `parameters` are set).
        case api
        /// A non-2xx answer that is not a Bot API envelope (for example a proxy's HTML 502); `errorCode` is the
        /// HTTP status.
        case http
        /// The connection failed or broke (`detail` says how).
        case transport
        /// The attempt took longer than `BotAPIConfiguration.requestTimeout`.
        case timeout
        /// `ok: true`, but the result did not decode as the expected type.
        case decoding
        /// The request body could not be encoded.
        case encoding
    }

    /// What went wrong.
    public var kind: Kind
    /// The Bot API method called (`sendMessage`, ...).
    public var method: String
    /// Telegram's `error_code` (equal to the HTTP status), or the HTTP status for `.http`.
    public var errorCode: Int?
    /// Telegram's `description`, such as `"Bad Request: chat not found"`, redacted.
    public var apiDescription: String?
    /// Telegram's `parameters` (`retry_after`, `migrate_to_chat_id`).
    public var parameters: ResponseParameters?
    /// Redacted detail for transport, timeout, decoding and encoding errors.
    public var detail: String?
    /// Attempts made before giving up.
    public var attempts: Int

    /// - Parameters:
    ///   - kind: What went wrong.
    ///   - method: The Bot API method.
    ///   - errorCode: Telegram's `error_code` or the HTTP status.
    ///   - apiDescription: Telegram's `description` (must already be free of the token).
    ///   - parameters: Telegram's `parameters`.
    ///   - detail: Free text for non-API errors (must already be free of the token).
    ///   - attempts: Attempts made.
    public init(
        kind: Kind,
        method: String,
        errorCode: Int? = nil,
        apiDescription: String? = nil,
        parameters: ResponseParameters? = nil,
        detail: String? = nil,
        attempts: Int = 1
    ) {
        self.kind = kind
        self.method = method
        self.errorCode = errorCode
        self.apiDescription = apiDescription
        self.parameters = parameters
        self.detail = detail
        self.attempts = attempts
    }

    /// Seconds Telegram asked us to wait (`parameters.retry_after`).
    public var retryAfter: Int? { parameters?.retryAfter }

    /// Telegram refused because of flood control (429).
    public var isRateLimited: Bool { (kind == .api || kind == .http) && errorCode == 429 }

    /// A failure that may go away by itself: 5xx, connection errors, timeouts, and rate limiting.
    public var isTransient: Bool {
        switch kind {
        case .transport, .timeout: true
        case .api, .http: isRateLimited || (errorCode ?? 0) >= 500
        case .decoding, .encoding: false
        }
    }

    /// True when Telegram's description contains `text` (Telegram reports causes such as
    /// `CHARGE_ALREADY_REFUNDED` only in the description).
    public func descriptionContains(_ text: String) -> Bool {
        apiDescription?.contains(text) ?? false
    }

    public var description: String {
        var parts = ["Bot API \(method) failed (\(kind.rawValue)"]
        if let errorCode { parts.append(", code \(errorCode)") }
        parts.append(", \(attempts) attempt\(attempts == 1 ? "" : "s"))")
        if let apiDescription { parts.append(": \(apiDescription)") }
        if let detail { parts.append(": \(detail)") }
        if let retryAfter { parts.append(" [retry after \(retryAfter) s]") }
        if let chat = parameters?.migrateToChatID { parts.append(" [migrated to chat \(chat)]") }
        return parts.joined()
    }
}
