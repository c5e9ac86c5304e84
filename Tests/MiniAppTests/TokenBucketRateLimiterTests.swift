import Testing

@testable import MiniApp

@Suite struct TokenBucketRateLimiterTests {
    @Test func capacityIsAllowedThenLimitedWithASensibleRetryAfter() {
        let limiter = TokenBucketRateLimiter<String>(capacity: 3, refillPerSecond: 1)
        let t0 = ContinuousClock.now
        #expect(limiter.acquire("ip", now: t0) == .allowed(remaining: 2))
        #expect(limiter.acquire("ip", now: t0) == .allowed(remaining: 1))
        #expect(limiter.acquire("ip", now: t0) == .allowed(remaining: 0))
        let refused = limiter.acquire("ip", now: t0)
        #expect(refused == .limited(retryAfter: .seconds(1)))
        #expect(refused.retryAfterSeconds == 1)
        // Half a second later half a token is back: wait another half.
        let half = limiter.acquire("ip", now: t0 + .milliseconds(500))
        #expect(half == .limited(retryAfter: .milliseconds(500)))
        #expect(half.retryAfterSeconds == 1)
        // Another key has its own bucket.
        #expect(limiter.acquire("other", now: t0).isAllowed)
    }

    @Test func tokensRefillAtTheRateUpToCapacity() {
        let limiter = TokenBucketRateLimiter<Int64>(capacity: 2, refillPerSecond: 0.5)
        let t0 = ContinuousClock.now
        #expect(limiter.acquire(1, now: t0).isAllowed)
        #expect(limiter.acquire(1, now: t0).isAllowed)
        #expect(limiter.acquire(1, now: t0).retryAfterSeconds == 2)
        #expect(limiter.acquire(1, now: t0 + .seconds(2)) == .allowed(remaining: 0))
        #expect(!limiter.acquire(1, now: t0 + .seconds(2)).isAllowed)
        // A long pause refills to capacity, not beyond.
        let later = t0 + .seconds(3600)
        #expect(limiter.acquire(1, now: later) == .allowed(remaining: 1))
        #expect(limiter.acquire(1, now: later) == .allowed(remaining: 0))
        #expect(!limiter.acquire(1, now: later).isAllowed)
    }

    @Test func idleKeysAreEvictedSoMemoryStaysBounded() {
        let limiter = TokenBucketRateLimiter<Int>(capacity: 5, refillPerSecond: 1, maxKeys: 10)
        let t0 = ContinuousClock.now
        for key in 0..<1000 {
            _ = limiter.acquire(key, now: t0 + .seconds(key * 10))
        }
        #expect(limiter.trackedKeys <= 10)
        // All busy at one instant: the least recently used go, the table stays bounded.
        let busy = TokenBucketRateLimiter<Int>(capacity: 1, refillPerSecond: 0.001, maxKeys: 10)
        for key in 0..<1000 { _ = busy.acquire(key, now: t0 + .milliseconds(key)) }
        #expect(busy.trackedKeys <= 10)
        // The most recent key is still tracked (and limited).
        #expect(!busy.acquire(999, now: t0 + .milliseconds(999)).isAllowed)
    }

    @Test func concurrentCallersNeverGetMoreThanCapacity() async {
        let limiter = TokenBucketRateLimiter<String>(capacity: 50, refillPerSecond: 0.0001)
        let t0 = ContinuousClock.now
        let allowed = await withTaskGroup(of: Bool.self) { group in
            for _ in 0..<200 { group.addTask { limiter.acquire("k", now: t0).isAllowed } }
            var count = 0
            for await ok in group where ok { count += 1 }
            return count
        }
        #expect(allowed == 50)
    }
}
