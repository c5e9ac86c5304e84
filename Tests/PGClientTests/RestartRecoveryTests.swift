import Foundation
import Logging
import PGClient
import TestSupport
import Testing

/// The pool survives a real PostgreSQL restart and outage on a private cluster, without being recreated.
@Suite struct RestartRecoveryTests {
    /// Starts a private cluster with a `marks` table, runs `body` with a pool on it, always destroys the cluster.
    private static func withCluster(
        poolSize: Int, _ body: (PrivateCluster, PGPool) async throws -> Void
    ) async throws {
        let cluster = try await PrivateCluster.start()
        var quiet = Logger(label: "telebot.pg.restart-test")
        quiet.logLevel = .critical
        let pool = PGPool(configuration: PGPoolConfiguration(conninfo: cluster.conninfo(), size: poolSize), logger: quiet)
        do {
            try await PGTest.setUp(pool, "CREATE TABLE marks (id int PRIMARY KEY)")
            try await body(cluster, pool)
            await pool.close()
            await cluster.destroy()
        } catch {
            await pool.close()
            await cluster.destroy()
            throw error
        }
    }

    /// Runs `SELECT 1` until it works (at most `attempts` times); returns the errors seen before it did.
    private static func untilItWorks(_ pool: PGPool, attempts: Int = 5) async throws -> [PGError] {
        var failures: [PGError] = []
        for _ in 0..<attempts {
            do {
                let one = try await PGTest.count(pool, "SELECT 1::int8")
                if one == 1 { return failures }
            } catch let error as PGError {
                failures.append(error)
                try await Task.sleep(for: .milliseconds(100))
            }
        }
        throw TimedOut(what: "work after recovery; errors: \(failures)")
    }

    @Test func workAndTransactionsSucceedAgainAfterARestart() async throws {
        try await Self.withCluster(poolSize: 4) { cluster, pool in
            try await PGTest.warmUp(pool, connections: 4)
            #expect(pool.connectionCounts.idle == 4)
            let before = try await pool.withConnection { connection in
                try await connection.query("SELECT pg_backend_pid() AS pid").first?.decode("pid", as: Int.self)
            }

            try await cluster.restartServer()
            let failures = try await Self.untilItWorks(pool)
            // At most the unit that met a dead connection fails, and it says so.
            #expect(failures.count <= 1)
            #expect(failures.allSatisfy { $0.isConnectionLost }, "\(failures)")
            let after = try await pool.withConnection { connection in
                try await connection.query("SELECT pg_backend_pid() AS pid").first?.decode("pid", as: Int.self)
            }
            #expect(after != before)

            // Transactions right after a restart: a first batch (BEGIN goes out with the first statement) that meets a
            // dead connection committed nothing, so the whole unit runs again on a new one.
            try await PGTest.warmUp(pool, connections: 4)
            try await cluster.restartServer()
            let attempts = Counter()
            try await withThrowingTaskGroup(of: Void.self) { group in
                for id in 1...10 {
                    group.addTask {
                        try await pool.transaction { tx in
                            attempts.increment()
                            try await tx.execute("INSERT INTO marks (id) VALUES (\(id))")
                        }
                    }
                }
                try await group.waitForAll()
            }
            // Each of the 4 dead connections costs at most one extra run of a body; every row is written once.
            #expect(attempts.value >= 10 && attempts.value <= 14, "\(attempts.value) runs")
            let rows = try await PGTest.count(pool, "SELECT count(*) FROM marks")
            #expect(rows == 10)
        }
    }

    @Test func aStoppedServerFailsFastWithConnectionErrorsAndWorkResumesAfterStart() async throws {
        try await Self.withCluster(poolSize: 2) { cluster, pool in
            try await PGTest.warmUp(pool, connections: 2)
            try await cluster.stopServer()
            for _ in 0..<3 {
                let started = ContinuousClock.now
                let error = await #expect(throws: PGError.self) {
                    try await pool.withConnection { connection in try await connection.execute("SELECT 1") }
                }
                #expect(error?.isConnectionLost == true, "\(String(describing: error))")
                #expect(PGTest.seconds(since: started) < 5)
            }
            let started = ContinuousClock.now
            let transactionError = await #expect(throws: PGError.self) {
                try await pool.transaction { tx in try await tx.execute("INSERT INTO marks (id) VALUES (1)") }
            }
            #expect(transactionError?.isConnectionLost == true)
            #expect(PGTest.seconds(since: started) < 10)
            #expect(pool.connectionCounts.inUse == 0)

            try await cluster.startServer()
            let failures = try await Self.untilItWorks(pool)
            #expect(failures.isEmpty, "\(failures)")
            let inserted = try await pool.transaction { tx in try await tx.execute("INSERT INTO marks (id) VALUES (1)") }
            #expect(inserted == 1)
        }
    }
}
