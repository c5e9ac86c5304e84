import Foundation
import PGClient
import TestSupport
import Testing

/// `pool.transaction` commits, rolls back on a thrown error, and retries whole transactions on 40001 and 40P01.
@Suite struct TransactionTests {
    @Test func aThrownErrorRollsBackEverything() async throws {
        try await PGTest.withPool(size: 1) { _, pool in
            try await PGTest.setUp(pool, "CREATE TABLE items (id int PRIMARY KEY, name text NOT NULL)")
            let attempts = Counter()
            await #expect(throws: Boom.self) {
                try await pool.transaction { tx in
                    attempts.increment()
                    try await tx.execute("INSERT INTO items (id, name) VALUES (1, 'first')")
                    try await tx.execute("INSERT INTO items (id, name) VALUES (2, 'second')")
                    throw Boom()
                }
            }
            #expect(attempts.value == 1)
            let rows = try await PGTest.count(pool, "SELECT count(*) FROM items")
            #expect(rows == 0)
            // The same (single) connection is usable and not left inside a transaction.
            let committed = try await pool.transaction { tx in
                try await tx.execute("INSERT INTO items (id, name) VALUES (3, 'third')")
            }
            #expect(committed == 1)
            let names = try await pool.withConnection { connection in
                try await connection.query("SELECT name FROM items ORDER BY id").map { try $0.decode("name", as: String.self) }
            }
            #expect(names == ["third"])
        }
    }

    @Test func aUnitOfWorkThatLeavesATransactionOpenIsRolledBack() async throws {
        try await PGTest.withPool(size: 1) { _, pool in
            try await PGTest.setUp(pool, "CREATE TABLE items (id int PRIMARY KEY)")
            try await pool.withConnection { connection in
                try await connection.unsafeExecute("BEGIN")
                try await connection.execute("INSERT INTO items (id) VALUES (1)")
            }
            let (rows, first, second) = try await pool.withConnection { connection in
                (
                    try await connection.query("SELECT count(*) AS n FROM items").first?.decode("n", as: Int.self),
                    try await connection.query("SELECT txid_current() AS x").first?.decode("x", as: Int64.self),
                    try await connection.query("SELECT txid_current() AS x").first?.decode("x", as: Int64.self)
                )
            }
            #expect(rows == 0)
            // Outside a transaction block every statement gets its own transaction id.
            #expect(first != nil && first != second)
        }
    }

    @Test func isolationLevelsAreApplied() async throws {
        try await PGTest.withPool(size: 1) { _, pool in
            for isolation in [PGIsolation.readCommitted, .repeatableRead, .serializable] {
                let level = try await pool.transaction(isolation: isolation) { tx in
                    try await tx.query("SHOW transaction_isolation").first?.decode(at: 0, as: String.self)
                }
                #expect(level == isolation.rawValue.lowercased())
            }
        }
    }

    @Test func aRealSerializationFailureIsRetriedAndNoUpdateIsLost() async throws {
        try await PGTest.withPool(size: 2) { _, pool in
            try await PGTest.setUp(
                pool, "CREATE TABLE counters (id int PRIMARY KEY, value int NOT NULL); INSERT INTO counters VALUES (1, 0)")
            let attempts = Counter()
            let haveRead = Counter()
            let failures = Counter()
            // Both transactions read the row, meet, then write it: the second writer's snapshot is stale, so
            // PostgreSQL aborts it with 40001 and the pool runs it again.
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<2 {
                    group.addTask {
                        try await pool.transaction(isolation: .serializable) { tx in
                            attempts.increment()
                            let value =
                                try await tx.query("SELECT value FROM counters WHERE id = 1").first?
                                .decode("value", as: Int.self) ?? -1
                            haveRead.increment()
                            guard await haveRead.wait(atLeast: 2) else { throw TimedOut(what: "the other reader") }
                            do {
                                try await tx.execute("UPDATE counters SET value = \(value + 1) WHERE id = 1")
                            } catch let error as PGError where error.sqlState == .serializationFailure {
                                failures.increment()
                                throw error
                            }
                        }
                    }
                }
                try await group.waitForAll()
            }
            #expect(failures.value == 1)
            #expect(attempts.value == 3)
            let value = try await PGTest.count(pool, "SELECT value::int8 FROM counters WHERE id = 1")
            #expect(value == 2)
        }
    }

    @Test func writeSkewUnderSerializableIsDetectedAndRetried() async throws {
        try await PGTest.withPool(size: 2) { _, pool in
            // Two on-call doctors; each may go off call only if the other stays on. Serializable must keep one on.
            try await PGTest.setUp(
                pool,
                """
                CREATE TABLE doctors (id int PRIMARY KEY, on_call bool NOT NULL);
                INSERT INTO doctors VALUES (1, true), (2, true);
                """)
            let attempts = Counter()
            let haveRead = Counter()
            let results = try await withThrowingTaskGroup(of: Bool.self) { group in
                for id in 1...2 {
                    group.addTask {
                        try await pool.transaction(isolation: .serializable) { tx in
                            attempts.increment()
                            let onCall =
                                try await tx.query("SELECT count(*) AS n FROM doctors WHERE on_call").first?
                                .decode("n", as: Int.self) ?? 0
                            haveRead.increment()
                            guard await haveRead.wait(atLeast: 2) else { throw TimedOut(what: "the other reader") }
                            guard onCall >= 2 else { return false }
                            try await tx.execute("UPDATE doctors SET on_call = false WHERE id = \(id)")
                            return true
                        }
                    }
                }
                return try await group.reduce(into: [Bool]()) { $0.append($1) }
            }
            #expect(results.filter { $0 }.count == 1)
            #expect(results.count == 2)
            // At least one 40001 (raised at the UPDATE or at COMMIT) and its retry; nothing else here is retryable.
            // An early retry can meet the other transaction again, so there may be more.
            #expect(attempts.value >= 3)
            let stillOnCall = try await PGTest.count(pool, "SELECT count(*) FROM doctors WHERE on_call")
            #expect(stillOnCall == 1)
        }
    }

    @Test func aDeadlockIsRetriedAndBothTransactionsApply() async throws {
        try await PGTest.withPool(size: 2) { _, pool in
            try await PGTest.setUp(
                pool,
                "CREATE TABLE slots (id int PRIMARY KEY, hits int NOT NULL); INSERT INTO slots VALUES (1, 0), (2, 0)")
            let attempts = Counter()
            let haveFirstLock = Counter()
            let deadlocks = Counter()
            try await withThrowingTaskGroup(of: Void.self) { group in
                for (first, second) in [(1, 2), (2, 1)] {
                    group.addTask {
                        try await pool.transaction { tx in
                            attempts.increment()
                            // Detect the deadlock quickly (superuser setting, this transaction only).
                            try await tx.unsafeExecute("SET LOCAL deadlock_timeout = '50ms'")
                            try await tx.execute("UPDATE slots SET hits = hits + 1 WHERE id = \(first)")
                            haveFirstLock.increment()
                            guard await haveFirstLock.wait(atLeast: 2) else { throw TimedOut(what: "the other locker") }
                            do {
                                try await tx.execute("UPDATE slots SET hits = hits + 1 WHERE id = \(second)")
                            } catch let error as PGError where error.sqlState == .deadlockDetected {
                                deadlocks.increment()
                                throw error
                            }
                        }
                    }
                }
                try await group.waitForAll()
            }
            #expect(deadlocks.value == 1)
            #expect(attempts.value == 3)
            let total = try await PGTest.count(pool, "SELECT sum(hits)::int8 FROM slots")
            let each = try await PGTest.count(pool, "SELECT count(*) FROM slots WHERE hits = 2")
            #expect(total == 4)
            #expect(each == 2)
        }
    }

    @Test func retriesStopAfterTheConfiguredAttempts() async throws {
        try await PGTest.withPool(size: 1, configure: { $0.maxTransactionAttempts = 3 }) { _, pool in
            let attempts = Counter()
            let error = await #expect(throws: PGError.self) {
                try await pool.transaction { tx in
                    attempts.increment()
                    // A genuine 40001 raised by the server, every time.
                    try await tx.unsafeExecute(
                        "DO $$ BEGIN RAISE EXCEPTION 'forced' USING ERRCODE = 'serialization_failure'; END $$")
                }
            }
            #expect(error?.sqlState == .serializationFailure)
            #expect(error?.isTransactionRetryable == true)
            #expect(attempts.value == 3)
        }
    }

    /// A NUL in a bound parameter is refused before sending (22021) and is not `safeToRetry`: statements before it
    /// already ran, and running the closure again would fail the same way. The transaction runs once and rolls back.
    @Test func aNULInAParameterFailsOnceWithoutARetry() async throws {
        try await PGTest.withPool(size: 1) { _, pool in
            try await PGTest.setUp(pool, "CREATE TABLE notes (id int PRIMARY KEY, body text NOT NULL)")
            let attempts = Counter()
            do {
                try await pool.transaction { tx in
                    attempts.increment()
                    try await tx.execute("INSERT INTO notes (id, body) VALUES (1, 'fine')")
                    try await tx.execute("INSERT INTO notes (id, body) VALUES (2, \("a\u{0}b"))")
                }
                Issue.record("a NUL was accepted")
            } catch let error as PGError {
                #expect(error.sqlState == .characterNotInRepertoire)
                #expect(error.kind == .server)
                #expect(!error.safeToRetry)
                #expect(!error.isTransactionRetryable)
            }
            #expect(attempts.value == 1)
            #expect(try await PGTest.count(pool, "SELECT count(*) FROM notes") == 0)
        }
    }
}
