import Foundation
import PGClient
import TestSupport
import Testing

/// The asynchronous driver: pipelined batches, the deferred BEGIN, transactions that end without waiting, and
/// cancellation that reaches the server.
@Suite struct AsyncDriverTests {
    @Test func aPipelineReturnsEveryResultInOrder() async throws {
        try await PGTest.withPool(size: 1) { _, pool in
            let values = try await pool.withConnection { connection in
                try await connection.pipeline((1...5).map { "SELECT \($0)::int8 AS n" }).map { result in
                    try result.first?.decode("n", as: Int.self)
                }
            }
            #expect(values == [1, 2, 3, 4, 5])
        }
    }

    @Test func aFailureInsideAPipelineThrowsTheFirstErrorAndSkipsTheRest() async throws {
        try await PGTest.withPool(size: 1) { _, pool in
            try await PGTest.setUp(pool, "CREATE TABLE piped (id int PRIMARY KEY)")
            await #expect(throws: PGError.self) {
                try await pool.withConnection { connection in
                    _ = try await connection.pipeline([
                        "INSERT INTO piped VALUES (1)", "INSERT INTO piped VALUES (1)", "INSERT INTO piped VALUES (2)",
                    ])
                }
            }
            // Outside a transaction a batch is one implicit transaction (up to its Sync): the first insert is rolled
            // back with the failed second, and the third never ran.
            #expect(try await PGTest.count(pool, "SELECT count(*) FROM piped") == 0)
            // The same connection is usable afterwards.
            #expect(try await PGTest.count(pool, "SELECT 7::int8") == 7)
        }
    }

    @Test func aStatementWhosePrepareWasSkippedInAFailedBatchIsPreparedAgainLater() async throws {
        try await PGTest.withPool(size: 1) { _, pool in
            // The first PREPARE fails (syntax); the second new statement's PREPARE is skipped with the batch.
            await #expect(throws: PGError.self) {
                try await pool.withConnection { connection in
                    _ = try await connection.pipeline(["SELEC 1", "SELECT 42::int8 AS n"])
                }
            }
            // Same connection (pool of one): the skipped statement works, and so does a brand-new one.
            let skipped = try await PGTest.count(pool, "SELECT 42::int8 AS n")
            let brandNew = try await PGTest.count(pool, "SELECT 43::int8 AS n")
            let again = try await PGTest.count(pool, "SELECT 42::int8 AS n")
            #expect([skipped, brandNew, again] == [42, 43, 42])
        }
    }

    @Test func aTransactionThatSendsNothingLeavesNoTransactionOpen() async throws {
        try await PGTest.withPool(size: 1) { _, pool in
            let value = try await pool.transaction { _ in 42 }
            #expect(value == 42)
            #expect(try await PGTest.count(pool, Self.idleInTransaction) == 0)
        }
    }

    /// Sessions of this test's database left inside a transaction.
    static let idleInTransaction: PGQuery = """
        SELECT count(*) FROM pg_stat_activity
        WHERE datname = current_database() AND state LIKE 'idle in transaction%'
        """

    @Test func commitWithTheLastStatementCommitsBoth() async throws {
        try await PGTest.withPool(size: 1) { _, pool in
            try await PGTest.setUp(pool, "CREATE TABLE committed (id int PRIMARY KEY)")
            let inserted = try await pool.transaction { tx in
                try await tx.execute("INSERT INTO committed VALUES (1)")
                return try await tx.commit(with: "INSERT INTO committed VALUES (2) RETURNING id").first?
                    .decode("id", as: Int.self)
            }
            #expect(inserted == 2)
            #expect(try await PGTest.count(pool, "SELECT count(*) FROM committed") == 2)
        }
    }

    @Test func aTransactionRolledBackWithoutWaitingWritesNothingAndTheConnectionGoesOn() async throws {
        try await PGTest.withPool(size: 1) { _, pool in
            try await PGTest.setUp(pool, "CREATE TABLE undone (id int PRIMARY KEY)")
            for id in 1...3 {
                try await pool.transaction { tx in
                    try await tx.execute("INSERT INTO undone VALUES (\(id))")
                    tx.rollbackWithoutWaiting()
                }
            }
            // One connection: each next unit first read the previous ROLLBACK's answer.
            #expect(try await PGTest.count(pool, "SELECT count(*) FROM undone") == 0)
            #expect(try await PGTest.count(pool, Self.idleInTransaction) == 0)
        }
    }

    @Test func aNULInAParameterFailsTheTransactionOnceWithoutRetrying() async throws {
        try await PGTest.withPool(size: 1) { _, pool in
            let runs = Counter()
            await #expect(throws: PGError.self) {
                try await pool.transaction { tx in
                    runs.increment()
                    try await tx.execute("SELECT \("A\u{0}B")::text")
                }
            }
            #expect(runs.value == 1)
        }
    }

    @Test func cancellingATaskCancelsItsStatementOnTheServer() async throws {
        try await PGTest.withPool(size: 2) { _, pool in
            let marker = "cancel-me-\(UUID().uuidString)"
            let sleeper = Task {
                try await pool.withConnection { connection in
                    try await connection.execute("SELECT pg_sleep(60), \(marker)::text")
                }
            }
            let running: PGQuery = """
                SELECT count(*) FROM pg_stat_activity
                WHERE datname = current_database() AND state = 'active' AND query LIKE 'SELECT pg_sleep(60)%'
                    AND pid <> pg_backend_pid()
                """
            try await Self.waitUntil { try await PGTest.count(pool, running) == 1 }
            sleeper.cancel()
            let outcome = await sleeper.result
            guard case .failure(let error) = outcome else {
                Issue.record("the cancelled statement completed")
                return
            }
            #expect((error as? PGError)?.sqlState == .queryCanceled, "\(error)")
            // Gone from the server, not just abandoned by the client; and both connections still work.
            #expect(try await PGTest.count(pool, running) == 0)
            try await PGTest.warmUp(pool, connections: 2)
        }
    }

    /// Polls `condition` (bounded: 20 s) — waiting for the server to reach a state, never asserting a duration.
    static func waitUntil(_ condition: () async throws -> Bool) async throws {
        for _ in 0..<400 {
            if try await condition() { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw TimedOut(what: "condition")
    }
}
