/// Unit conversions of `Duration` used across the modules (SQL intervals, metrics, logs), in one place so
/// sub-second parts are never dropped.
extension Duration {
    /// The duration in seconds, fractions included.
    public var inSeconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }

    /// The duration in milliseconds, fractions included.
    public var inMilliseconds: Double { inSeconds * 1000 }

    /// The duration in whole nanoseconds (truncated).
    public var inNanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}
