import Support

/// Bounds for retrying one Bot API call.
///
/// - A 429 answer waits `parameters.retry_after` seconds (1 s when Telegram gave none), unless that is longer
///   than `maxRetryAfter`: then the call fails at once with the 429 error, so the caller can reschedule.
/// - 5xx answers, connection errors and timeouts back off exponentially from `baseDelay` (doubling, capped at
///   `maxDelay`) with jitter: each wait is drawn uniformly from the upper half of the step.
/// - Every other error (4xx, undecodable success) is final.
/// - `maxAttempts` bounds the attempts of one call, first attempt included, whatever the causes.
public struct BotAPIRetryPolicy: Sendable, Equatable, CustomStringConvertible {
    /// Attempts of one call, the first one included (at least 1).
    public var maxAttempts: Int
    /// Backoff before the second attempt after a 5xx or connection error.
    public var baseDelay: Duration
    /// Longest single backoff.
    public var maxDelay: Duration
    /// Longest `retry_after` honoured by waiting.
    public var maxRetryAfter: Duration

    /// - Parameters:
    ///   - maxAttempts: Attempts of one call, the first one included.
    ///   - baseDelay: First backoff after a 5xx or connection error.
    ///   - maxDelay: Cap on one backoff.
    ///   - maxRetryAfter: Longest 429 `retry_after` to wait for.
    public init(
        maxAttempts: Int = 3,
        baseDelay: Duration = .milliseconds(200),
        maxDelay: Duration = .seconds(5),
        maxRetryAfter: Duration = .seconds(30)
    ) {
        self.maxAttempts = max(1, maxAttempts)
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
        self.maxRetryAfter = maxRetryAfter
    }

    /// 3 attempts, 200 ms base backoff capped at 5 s, 429 waits of up to 30 s.
    public static let `default` = BotAPIRetryPolicy()
    /// One attempt, no retry: for calls whose repetition the caller wants to control itself.
    public static let none = BotAPIRetryPolicy(maxAttempts: 1)

    public var description: String {
        "BotAPIRetryPolicy(maxAttempts: \(maxAttempts), baseDelay: \(baseDelay), maxDelay: \(maxDelay), "
            + "maxRetryAfter: \(maxRetryAfter))"
    }

    /// The wait before the next attempt after `error` ended attempt number `attempt` (1-based), or nil when the
    /// error is final or the attempts are used up.
    func delay(after error: BotAPIError, attempt: Int) -> Duration? {
        guard attempt < maxAttempts else { return nil }
        if error.isRateLimited {
            let wait = Duration.seconds(max(0, error.retryAfter ?? 1))
            return wait <= maxRetryAfter ? wait : nil
        }
        guard error.isTransient else { return nil }
        return backoff(attempt: attempt)
    }

    /// Exponential backoff with jitter for the wait after attempt `attempt` (1-based).
    func backoff(attempt: Int) -> Duration {
        Backoff(base: baseDelay, cap: maxDelay).delay(attempt)
    }
}

extension Duration {
    /// Whole nanoseconds, saturating.
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        let (scaled, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return seconds < 0 ? .min : .max }
        return scaled &+ attoseconds / 1_000_000_000
    }
}
