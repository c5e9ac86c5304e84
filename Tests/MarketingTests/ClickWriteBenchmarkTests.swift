import Foundation
import Marketing
import PGClient
import Testing
import TestSupport

/// The `telebot-bench clicks` measurement, runnable from the tests on the dev cluster:
/// `TELEBOT_BENCH_CLICKS=1 swift test --skip-build --filter ClickWriteBenchmarkTests`.
@Suite struct ClickWriteBenchmarkTests {
    static func setting(_ name: String, _ fallback: Int) -> Int {
        Int(ProcessInfo.processInfo.environment["TELEBOT_BENCH_" + name] ?? "") ?? fallback
    }
    static var seconds: Int { setting("SECONDS", 5) }
    static var writer: BatchedClickWriter.Configuration {
        let defaults = BatchedClickWriter.Configuration()
        return BatchedClickWriter.Configuration(
            maxBatchSize: setting("BATCH", defaults.maxBatchSize),
            maxDelay: .microseconds(setting("DELAY_US", Int(defaults.maxDelay.components.attoseconds / 1_000_000_000_000))),
            maxConcurrentFlushes: setting("FLUSHES", defaults.maxConcurrentFlushes))
    }

    @Test(.enabled(if: ProcessInfo.processInfo.environment["TELEBOT_BENCH_CLICKS"] != nil))
    func batchedWritesOutrunOneInsertPerClickAt64Callers() async throws {
        try await TestDatabase.with(poolSize: 10) { _, pool in
            let unbatched = try await ClickWriteBenchmark.run(pool: pool, mode: .unbatched, concurrency: 64, duration: .seconds(Self.seconds))
            let batched = try await ClickWriteBenchmark.run(
                pool: pool, mode: .batched, concurrency: 64, duration: .seconds(Self.seconds), writerConfiguration: Self.writer)
            let ratio = batched.clicksPerSecond / max(unbatched.clicksPerSecond, 1)
            print("\(unbatched)\n\(batched) \(Self.writer)\nratio batched/unbatched: \((ratio * 100).rounded() / 100)x")
            #expect(batched.clicks > 0 && unbatched.clicks > 0)
            #expect(ratio > 1)
            #expect(try await MarketingFixtures.count(pool, "SELECT count(*) FROM marketing_clicks") == 0)
        }
    }

    @Test func benchmarkRunsAndCleansUp() async throws {
        try await TestDatabase.with(poolSize: 4) { _, pool in
            // In the timing pass of scripts/test: its writes must commit within the run, which 400 concurrent tests can delay.
            let result = try await ClickWriteBenchmark.run(pool: pool, mode: .batched, concurrency: 8, duration: .seconds(2))
            #expect(result.clicks > 0)
            #expect(result.p99Milliseconds >= result.p50Milliseconds)
            #expect(try await MarketingFixtures.count(pool, "SELECT count(*) FROM marketing_clicks") == 0)
            #expect(try await MarketingFixtures.count(pool, "SELECT count(*) FROM users") == 0)
        }
    }
}
