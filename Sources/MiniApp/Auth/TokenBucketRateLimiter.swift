import Support
import Synchronization

/// The answer of a rate limiter.
public enum RateLimitDecision: Sendable, Equatable {
    /// Go ahead; `remaining` whole tokens are left in the bucket.
    case allowed(remaining: Int)
    /// Refused; a token will be available after `retryAfter`.
    case limited(retryAfter: Duration)

    public var isAllowed: Bool {
        if case .allowed = self { true } else { false }
    }

    /// `Retry-After` in whole seconds (rounded up, at least 1); nil when allowed.
    public var retryAfterSeconds: Int? {
        guard case .limited(let wait) = self else { return nil }
        let (seconds, attoseconds) = wait.components
        return max(1, Int(seconds) + (attoseconds > 0 ? 1 : 0))
    }
}

/// A keyed token bucket (per IP, per user): each key holds up to `capacity` tokens, refilled continuously at
/// `refillPerSecond`; a request takes one. In process memory, so limits are per server instance.
///
/// Memory stays bounded: a bucket that has refilled completely is the same as no bucket, so such idle keys are
/// dropped whenever the table grows past `maxKeys`; if every key is busy, the least recently used are dropped
/// (they start over with a full bucket, which errs on the side of letting requests through).
public final class TokenBucketRateLimiter<Key: Hashable & Sendable>: Sendable {
    public let capacity: Double
    public let refillPerSecond: Double
    public let maxKeys: Int
    let buckets: Mutex<[Key: Bucket]>

    struct Bucket {
        var tokens: Double
        var updated: ContinuousClock.Instant
    }

    /// - Parameters:
    ///   - capacity: burst size (at least 1).
    ///   - refillPerSecond: sustained rate (tokens per second, greater than 0).
    ///   - maxKeys: how many keys are tracked before idle ones are evicted.
    public init(capacity: Int, refillPerSecond: Double, maxKeys: Int = 100_000) {
        self.capacity = Double(max(1, capacity))
        self.refillPerSecond = refillPerSecond > 0 ? refillPerSecond : 1
        self.maxKeys = max(1, maxKeys)
        self.buckets = Mutex([:])
    }

    /// Takes a token for `key` if there is one.
    /// - Parameters:
    ///   - key: whom to limit.
    ///   - now: the monotonic clock (injectable for tests).
    public func acquire(_ key: Key, now: ContinuousClock.Instant = .now) -> RateLimitDecision {
        buckets.withLock { buckets in
            var bucket = buckets[key].map { refilled($0, now: now) } ?? Bucket(tokens: capacity, updated: now)
            let decision: RateLimitDecision
            if bucket.tokens >= 1 {
                bucket.tokens -= 1
                decision = .allowed(remaining: Int(bucket.tokens))
            } else {
                let wait = (1 - bucket.tokens) / refillPerSecond
                decision = .limited(retryAfter: .nanoseconds(Int64((wait * 1e9).rounded(.up))))
            }
            if buckets[key] == nil && buckets.count >= maxKeys { evict(&buckets, now: now) }
            buckets[key] = bucket
            return decision
        }
    }

    /// How many keys are tracked (for tests and metrics).
    public var trackedKeys: Int { buckets.withLock { $0.count } }

    func refilled(_ bucket: Bucket, now: ContinuousClock.Instant) -> Bucket {
        let elapsed = max(0, seconds(now - bucket.updated))
        return Bucket(tokens: min(capacity, bucket.tokens + elapsed * refillPerSecond), updated: max(now, bucket.updated))
    }

    /// Drops full (idle) buckets; if that is not enough, the least recently used down to 90 % of `maxKeys`, so the
    /// next eviction is at least a tenth of `maxKeys` insertions away.
    func evict(_ buckets: inout [Key: Bucket], now: ContinuousClock.Instant) {
        buckets = buckets.filter { refilled($0.value, now: now).tokens < capacity }
        let target = maxKeys - max(1, maxKeys / 10)
        guard buckets.count > target else { return }
        let oldest = buckets.sorted { $0.value.updated < $1.value.updated }.prefix(buckets.count - target)
        for (key, _) in oldest { buckets[key] = nil }
    }

    func seconds(_ duration: Duration) -> Double { duration.inSeconds }
}
