import Foundation
import PGClient

/// The same workloads on `PGConnection`s each driven by one task of its own, without the pool: the cost of the
/// driver alone, for comparison with the pool's numbers.
struct PGDirectRunner: Sendable {
    let conninfo: String
    let workload: PGBenchCommand.Workload
    let keys: Int
    let usePreparedStatements: Bool

    func run(threads: Int, for duration: Duration) async throws -> PGBenchResult {
        var connections: [PGConnection] = []
        for _ in 0..<threads {
            connections.append(
                try await PGConnection.connect(conninfo: conninfo, usePreparedStatements: usePreparedStatements))
        }
        defer { for connection in connections { connection.close() } }
        let deadline = ContinuousClock.now + duration
        let started = ContinuousClock.now
        let operations = try await withThrowingTaskGroup(of: Int.self) { group in
            for connection in connections {
                group.addTask { [self] in
                    var count = 0
                    while ContinuousClock.now < deadline {
                        try await once(connection, key: Int32.random(in: 1...Int32(keys)))
                        count += 1
                    }
                    return count
                }
            }
            return try await group.reduce(0, +)
        }
        let elapsed = ContinuousClock.now - started
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        return PGBenchResult(operations: operations, elapsed: seconds, latencies: [])
    }

    private func once(_ connection: PGConnection, key: Int32) async throws {
        switch workload {
        case .select:
            _ = try await connection.query("SELECT v FROM bench_items WHERE k = \(key)").first?.decode("v", as: String.self)
        case .insert:
            _ = try await connection.inTransaction { tx in
                try await tx.query("INSERT INTO bench_items (k, v) VALUES (\(key), 'bench') RETURNING id").first?
                    .decode("id", as: Int64.self)
            }
        }
    }
}
