/// Why a promo could not be posted, classified by what it means for a retry.
public struct PromoPublishError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable, Equatable {
        /// 429 flood control: not posted; retry after `retryAfter`.
        case rateLimited = "rate_limited"
        /// Telegram answered with a server error: not posted; retry with backoff.
        case temporary
        /// Telegram refused the request (chat not found, bot not an admin, bad markup): not posted; retrying
        /// will not help.
        case permanent
        /// No usable answer (timeout, connection lost, undecodable success): the post may exist. Never retried,
        /// because posts are at most once.
        case outcomeUnknown = "outcome_unknown"
    }

    public var kind: Kind
    /// How long Telegram asked us to wait (429 `retry_after`).
    public var retryAfter: Duration?
    /// A safe description (no token, no chat content).
    public var message: String

    public init(kind: Kind, retryAfter: Duration? = nil, message: String) {
        self.kind = kind
        self.retryAfter = retryAfter
        self.message = message
    }

    public var description: String {
        var text = "\(kind.rawValue): \(message)"
        if let retryAfter { text += " (retry after \(retryAfter))" }
        return text
    }
}
