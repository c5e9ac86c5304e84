/// Where and how `BotAPIClient` talks to the Bot API.
public struct BotAPIConfiguration: Sendable {
    /// The bot token (`TELEGRAM_BOT_TOKEN`). It is part of every request URL, so the client redacts it from
    /// every log line and error it produces.
    public var token: String
    /// The Bot API base (`TELEGRAM_API_BASE_URL`), without the `/bot<token>` part.
    public var baseURL: String
    /// Time one attempt may take, from sending the request to the end of the response body.
    public var requestTimeout: Duration
    /// How failed attempts are retried.
    public var retry: BotAPIRetryPolicy
    /// Responses larger than this fail with a transport error instead of filling memory.
    public var maxResponseBytes: Int

    /// - Parameters:
    ///   - token: The bot token.
    ///   - baseURL: The Bot API base, `https://api.telegram.org` by default.
    ///   - requestTimeout: Time one attempt may take (10 s by default).
    ///   - retry: Retry policy (`.default`: 3 attempts, 200 ms exponential backoff, 429 waits up to 30 s).
    ///   - maxResponseBytes: Largest response body accepted (4 MiB by default).
    public init(
        token: String,
        baseURL: String = "https://api.telegram.org",
        requestTimeout: Duration = .seconds(10),
        retry: BotAPIRetryPolicy = .default,
        maxResponseBytes: Int = 4 << 20
    ) {
        self.token = token
        self.baseURL = baseURL
        self.requestTimeout = requestTimeout
        self.retry = retry
        self.maxResponseBytes = maxResponseBytes
    }
}

extension BotAPIConfiguration: CustomStringConvertible {
    /// A printable form with the token redacted.
    public var description: String {
        "BotAPIConfiguration(baseURL: \(baseURL), token: <redacted>, requestTimeout: \(requestTimeout), "
            + "retry: \(retry))"
    }
}
