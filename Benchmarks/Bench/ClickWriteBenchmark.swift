import Billing
import Marketing
import PGClient

/// Measures click inserts per second with `concurrency` callers in a closed loop, batched through
/// `BatchedClickWriter` or one INSERT per call. Used by `telebot-bench clicks`; it creates its
/// own users (Telegram ids from 9_000_000_000_000 up) and deletes them and their clicks afterwards.
enum ClickWriteBenchmark {
    enum Mode: String, Sendable, CaseIterable {
        /// `BatchedClickWriter.insert`.
        case batched
        /// One autocommitted `INSERT … RETURNING id` per call.
        case unbatched
    }

    /// What one run measured.
    struct Result: Sendable, CustomStringConvertible {
        var mode: Mode
        var concurrency: Int
        var clicks: Int
        var seconds: Double
        /// Latency of one insert, as each caller saw it.
        var p50Milliseconds: Double
        var p99Milliseconds: Double

        var clicksPerSecond: Double { seconds > 0 ? Double(clicks) / seconds : 0 }

        var description: String {
            let rate = (clicksPerSecond * 10).rounded() / 10
            let p50 = (p50Milliseconds * 100).rounded() / 100
            let p99 = (p99Milliseconds * 100).rounded() / 100
            return "\(mode.rawValue): \(clicks) clicks in \(seconds) s = \(rate) clicks/s, p50 \(p50) ms, p99 \(p99) ms "
                + "(\(concurrency) concurrent)"
        }
    }

    /// Runs one mode for `duration` after a short warm-up.
    static func run(
        pool: PGPool, mode: Mode, concurrency: Int = 64, duration: Duration = .seconds(5),
        writerConfiguration: BatchedClickWriter.Configuration = .init()
    ) async throws -> Result {
        let base: Int64 = 9_000_000_000_000 + Int64.random(in: 0..<1_000_000) * 1000
        let userIDs = try await pool.transaction { tx in
            var ids: [Int64] = []
            for offset in 0..<Int64(concurrency) { ids.append(try await UserStore.ensure(tx, telegramID: base + offset)) }
            return ids
        }
        let writer = BatchedClickWriter(pool: pool, configuration: writerConfiguration)
        let click = NewClick(ctaType: "buy", channel: "bench", utmSource: "bench", metadata: ["n": .integer(1)])
        let insert: @Sendable (Int64) async throws -> Void = { userID in
            switch mode {
            case .batched: _ = try await writer.insert(userID: userID, click: click)
            case .unbatched:
                _ = try await pool.withConnection { try await ClickStore.insert($0, userID: userID, click: click) }
            }
        }
        _ = try await loop(userIDs: userIDs, duration: .milliseconds(500), insert: insert)
        let started = ContinuousClock.now
        let latencies = try await loop(userIDs: userIDs, duration: duration, insert: insert)
        let elapsed = ContinuousClock.now - started
        await writer.close()
        try await pool.withConnection { connection in
            let ids = userIDs.map(String.init)
            try await connection.execute("DELETE FROM marketing_clicks WHERE user_id = ANY(\(ids)::bigint[])")
            try await connection.execute("DELETE FROM users WHERE id = ANY(\(ids)::bigint[])")
        }
        let sorted = latencies.sorted()
        func percentile(_ p: Double) -> Double {
            sorted.isEmpty ? 0 : sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))]
        }
        let (seconds, attoseconds) = elapsed.components
        return Result(
            mode: mode, concurrency: concurrency, clicks: sorted.count,
            seconds: Double(seconds) + Double(attoseconds) / 1e18,
            p50Milliseconds: percentile(0.5), p99Milliseconds: percentile(0.99))
    }

    /// Every caller inserts in a loop until the deadline; returns each insert's latency in milliseconds.
    private static func loop(
        userIDs: [Int64], duration: Duration, insert: @escaping @Sendable (Int64) async throws -> Void
    ) async throws -> [Double] {
        let deadline = ContinuousClock.now + duration
        return try await withThrowingTaskGroup(of: [Double].self) { group in
            for userID in userIDs {
                group.addTask {
                    var latencies: [Double] = []
                    while ContinuousClock.now < deadline {
                        let start = ContinuousClock.now
                        try await insert(userID)
                        let (seconds, attoseconds) = (ContinuousClock.now - start).components
                        latencies.append(Double(seconds) * 1000 + Double(attoseconds) / 1e15)
                    }
                    return latencies
                }
            }
            var all: [Double] = []
            for try await latencies in group { all.append(contentsOf: latencies) }
            return all
        }
    }
}
