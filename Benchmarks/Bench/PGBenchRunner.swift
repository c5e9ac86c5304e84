import Foundation
import PGClient

/// What one measured run did.
struct PGBenchResult: Sendable {
    let operations: Int
    let elapsed: Double
    /// Latencies in microseconds, sorted.
    let latencies: [Int]

    var tps: Double { elapsed > 0 ? Double(operations) / elapsed : 0 }

    func percentile(_ fraction: Double) -> Double {
        guard !latencies.isEmpty else { return 0 }
        let index = min(latencies.count - 1, Int(Double(latencies.count) * fraction))
        return Double(latencies[index]) / 1000
    }

    /// One machine-readable line (`tps=...`) the script parses, with latency percentiles in milliseconds.
    func report(workload: String, connections: Int) -> String {
        String(
            format: "workload=%@ connections=%d operations=%d seconds=%.2f tps=%.1f p50_ms=%.3f p99_ms=%.3f",
            workload, connections, operations, elapsed, tps, percentile(0.5), percentile(0.99))
    }
}

/// Runs a workload from `tasks` concurrent tasks until a deadline.
struct PGBenchRunner: Sendable {
    let pool: PGPool
    let workload: PGBenchCommand.Workload
    let keys: Int
    /// The tasks prefer PGClient's reactor as their executor (`PGExecutor`), as serve's request handlers do.
    var onReactor = true

    func run(tasks: Int, for duration: Duration) async throws -> PGBenchResult {
        let started = ContinuousClock.now
        let deadline = started + duration
        let perTask = try await withThrowingTaskGroup(of: [Int].self) { group in
            for _ in 0..<tasks {
                group.addTask { [onReactor] in
                    try await withTaskExecutorPreference(onReactor ? PGExecutor.shared : nil) {
                        var latencies: [Int] = []
                        latencies.reserveCapacity(1 << 16)
                        var generator = SystemRandomNumberGenerator()
                        while ContinuousClock.now < deadline {
                            let key = Int32(Int.random(in: 1...keys, using: &generator))
                            let opStarted = ContinuousClock.now
                            try await once(key: key)
                            let elapsed = ContinuousClock.now - opStarted
                            latencies.append(
                                Int(elapsed.components.seconds * 1_000_000 + elapsed.components.attoseconds / 1_000_000_000_000))
                        }
                        return latencies
                    }
                }
            }
            return try await group.reduce(into: [[Int]]()) { $0.append($1) }
        }
        let elapsed = ContinuousClock.now - started
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let all = perTask.flatMap { $0 }.sorted()
        return PGBenchResult(operations: all.count, elapsed: seconds, latencies: all)
    }

    private func once(key: Int32) async throws {
        switch workload {
        case .select:
            _ = try await pool.withConnection { connection in
                try await connection.query("SELECT v FROM bench_items WHERE k = \(key)").first?.decode("v", as: String.self)
            }
        case .insert:
            _ = try await pool.transaction { tx in
                try await tx.query("INSERT INTO bench_items (k, v) VALUES (\(key), 'bench') RETURNING id").first?
                    .decode("id", as: Int64.self)
            }
        }
    }
}
