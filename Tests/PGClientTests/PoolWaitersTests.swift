import Foundation
import PGClient
import TestSupport
import Testing

/// Thousands of tasks waiting for a connection: cancellations and timeouts leave nothing behind.
@Suite struct PoolWaitersTests {
    /// Holds every connection of `pool` until `release` opens.
    private static func holdAll(_ pool: PGPool, size: Int, release: Gate) async throws -> [Task<Void, any Error>] {
        let holding = Counter()
        let holders = (0..<size).map { _ in
            Task {
                try await pool.withConnection { _ in
                    holding.increment()
                    guard await release.wait(timeout: .seconds(60)) else { throw TimedOut(what: "release") }
                }
            }
        }
        #expect(await holding.wait(atLeast: size, timeout: .seconds(30)))
        return holders
    }

    @Test func tenThousandWaitersHalfCancelledAllServedOrCancelledNothingLeaks() async throws {
        try await PGTest.withPool(
            size: 2,
            configure: {
                $0.checkoutTimeout = .seconds(120)
                $0.maxWaiters = 20_000
            }
        ) {
            _, pool in
            let release = Gate()
            let holders = try await Self.holdAll(pool, size: 2, release: release)
            let served = Counter()
            let waiters = (0..<10_000).map { _ in
                Task {
                    try await pool.withConnection { _ in served.increment() }
                }
            }
            try await AsyncDriverTests.waitUntil { pool.waiterCount == 10_000 }
            for (index, waiter) in waiters.enumerated() where index.isMultiple(of: 2) { waiter.cancel() }
            var cancelled = 0
            for (index, waiter) in waiters.enumerated() where index.isMultiple(of: 2) {
                if case .failure(let error) = await waiter.result, error is CancellationError { cancelled += 1 }
            }
            // A cancelled waiter leaves at once; the others keep their place.
            #expect(pool.waiterCount == 5_000)
            release.open()
            for holder in holders { try await holder.value }
            for (index, waiter) in waiters.enumerated() where !index.isMultiple(of: 2) { _ = try await waiter.value }
            #expect(served.value + cancelled == 10_000)
            #expect(served.value >= 5_000)
            #expect(pool.waiterCount == 0)
            #expect(pool.connectionCounts.inUse == 0)
            #expect(try await PGTest.count(pool, "SELECT 1::int8") == 1)
        }
    }

    @Test func waitersPastTheCheckoutTimeoutFailAndLeaveNothingBehind() async throws {
        try await PGTest.withPool(size: 1, configure: { $0.checkoutTimeout = .milliseconds(200) }) { _, pool in
            let release = Gate()
            let holders = try await Self.holdAll(pool, size: 1, release: release)
            let waiters = (0..<1_000).map { _ in
                Task { try await pool.withConnection { _ in } }
            }
            var timedOut = 0
            for waiter in waiters {
                if case .failure(let error) = await waiter.result, (error as? PGError)?.kind == .checkoutTimeout {
                    timedOut += 1
                }
            }
            #expect(timedOut == 1_000)
            #expect(pool.waiterCount == 0)
            release.open()
            for holder in holders { try await holder.value }
            #expect(try await PGTest.count(pool, "SELECT 1::int8") == 1)
            #expect(pool.connectionCounts.inUse == 0)
        }
    }
}
