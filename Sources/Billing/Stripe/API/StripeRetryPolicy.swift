import Support

/// How `StripeClient` retries: only requests Stripe calls safe to repeat (a GET, or a POST carrying an
/// `Idempotency-Key`, resent with the same key), only after a connection error, 409, 429 or 5xx, and always as
/// `Stripe-Should-Retry` says when Stripe sends it. Delays grow exponentially with jitter, as in Stripe's libraries.
public struct StripeRetryPolicy: Sendable, Equatable {
    /// Attempts in all, the first included (1 = never retry).
    public var maxAttempts: Int
    /// Delay before the first retry (then doubled each time, up to `maxBackoff`).
    public var initialBackoff: Duration
    /// Upper bound of a delay, also for a server's `Retry-After`.
    public var maxBackoff: Duration

    public init(maxAttempts: Int = 3, initialBackoff: Duration = .milliseconds(500), maxBackoff: Duration = .seconds(5)) {
        self.maxAttempts = max(1, maxAttempts)
        self.initialBackoff = initialBackoff
        self.maxBackoff = maxBackoff
    }

    /// Never retry.
    public static let none = StripeRetryPolicy(maxAttempts: 1)

    /// The delay before retry number `retry` (1 for the first retry): exponential, jittered into [50 %, 100 %] of
    /// the step and never below `initialBackoff`, or `Retry-After` (seconds) capped at `maxBackoff`.
    func delay(beforeRetry retry: Int, retryAfterSeconds: Double?) -> Duration {
        if let retryAfterSeconds, retryAfterSeconds >= 0 {
            return min(.milliseconds(Int64(retryAfterSeconds * 1000)), maxBackoff)
        }
        return max(Backoff(base: initialBackoff, cap: maxBackoff).delay(retry), initialBackoff)
    }
}
