/// Exponential backoff with jitter, as the providers' own libraries do it: the step before retry `n` is
/// `base · 2^(n-1)` capped at `cap`, and the wait is drawn uniformly from the upper half of the step.
public struct Backoff: Sendable, Equatable {
    /// The step before the first retry.
    public var base: Duration
    /// The longest step.
    public var cap: Duration

    /// - Parameters:
    ///   - base: the step before the first retry.
    ///   - cap: the longest step.
    public init(base: Duration, cap: Duration) {
        self.base = base
        self.cap = cap
    }

    /// The step before retry `retry` (1 for the first retry), without jitter.
    public func step(_ retry: Int) -> Duration {
        let exponent = min(max(retry - 1, 0), 30)
        return min(base * (1 << exponent), cap)
    }

    /// The jittered wait before retry `retry` (1 for the first retry): uniform in `[step / 2, step]`.
    public func delay(_ retry: Int) -> Duration {
        let step = step(retry)
        let (seconds, attoseconds) = step.components
        let (scaled, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        let nanoseconds = overflow ? (seconds < 0 ? Int64.min : .max) : scaled &+ attoseconds / 1_000_000_000
        guard nanoseconds > 1 else { return step }
        return .nanoseconds(Int64.random(in: (nanoseconds / 2)...nanoseconds))
    }
}
