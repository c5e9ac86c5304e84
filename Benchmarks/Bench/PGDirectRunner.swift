import Foundation
import PGClient
import Synchronization

/// The same workloads on `PGConnection`s driven by plain OS threads, one per connection, without the pool and
/// without async: the cost of PGClient's synchronous layer alone, for comparison with the pool's numbers.
struct PGDirectRunner: Sendable {
    let conninfo: String
    let workload: PGBenchCommand.Workload
    let keys: Int
    let usePreparedStatements: Bool

    private final class Shared: Sendable {
        let operations = Atomic<Int>(0)
        let failure = Mutex<(any Error)?>(nil)
        let done = Atomic<Int>(0)
    }

    func run(threads: Int, for duration: Duration) async throws -> PGBenchResult {
        let connections = try (0..<threads).map { _ in
            try PGConnection.connect(conninfo: conninfo, usePreparedStatements: usePreparedStatements)
        }
        defer { for connection in connections { connection.close() } }
        let shared = Shared()
        let deadline = ContinuousClock.now + duration
        let started = ContinuousClock.now
        for connection in connections {
            let thread = Thread { [self] in
                var count = 0
                do {
                    while ContinuousClock.now < deadline {
                        try once(connection, key: Int32.random(in: 1...Int32(keys)))
                        count += 1
                    }
                } catch {
                    shared.failure.withLock { $0 = error }
                }
                shared.operations.add(count, ordering: .relaxed)
                shared.done.add(1, ordering: .releasing)
            }
            thread.start()
        }
        while shared.done.load(ordering: .acquiring) < threads {
            try await Task.sleep(for: .milliseconds(20))
        }
        if let failure = shared.failure.withLock({ $0 }) { throw failure }
        let elapsed = ContinuousClock.now - started
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        return PGBenchResult(operations: shared.operations.load(ordering: .relaxed), elapsed: seconds, latencies: [])
    }

    private func once(_ connection: PGConnection, key: Int32) throws {
        switch workload {
        case .select:
            _ = try connection.query("SELECT v FROM bench_items WHERE k = \(key)").first?.decode("v", as: String.self)
        case .insert:
            _ = try connection.inTransaction { tx in
                try tx.query("INSERT INTO bench_items (k, v) VALUES (\(key), 'bench') RETURNING id").first?
                    .decode("id", as: Int64.self)
            }
        }
    }
}
