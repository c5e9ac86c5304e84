import Foundation
import PGClient
import TestSupport
import Testing

/// Many more tasks than connections all get served; waiting is bounded in time and in number.
@Suite struct PoolConcurrencyTests {
    @Test func twoHundredTasksShareFourConnections() async throws {
        // A generous checkout timeout: this test is about everyone being served, not about timing.
        try await PGTest.withPool(size: 4, configure: { $0.checkoutTimeout = .seconds(60) }) { _, pool in
            try await PGTest.setUp(pool, "CREATE TABLE hits (id int PRIMARY KEY, backend int NOT NULL)")
            let backends = try await withThrowingTaskGroup(of: Int.self) { group in
                for id in 0..<200 {
                    group.addTask {
                        if id % 2 == 0 {
                            return try await pool.withConnection { connection in
                                try await connection.query(
                                    "INSERT INTO hits (id, backend) VALUES (\(id), pg_backend_pid()) RETURNING backend"
                                ).first?.decode("backend", as: Int.self) ?? -1
                            }
                        }
                        return try await pool.transaction { tx in
                            try await tx.query(
                                "INSERT INTO hits (id, backend) VALUES (\(id), pg_backend_pid()) RETURNING backend"
                            ).first?.decode("backend", as: Int.self) ?? -1
                        }
                    }
                }
                return try await group.reduce(into: Set<Int>()) { $0.insert($1) }
            }
            let rows = try await PGTest.count(pool, "SELECT count(*) FROM hits")
            #expect(rows == 200)
            // Never more server sessions than the pool size.
            #expect(backends.count <= 4)
            #expect(!backends.contains(-1))
            #expect(pool.connectionCounts.inUse == 0)
            #expect(pool.connectionCounts.idle <= 4)
        }
    }

    @Test func checkoutTimesOutWhenEveryConnectionIsHeld() async throws {
        try await PGTest.withPool(size: 2, configure: { $0.checkoutTimeout = .milliseconds(300) }) { _, pool in
            let holding = Counter()
            let release = Gate()
            let holders = Task {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for _ in 0..<2 {
                        group.addTask {
                            try await pool.withConnection { _ in
                                holding.increment()
                                guard await release.wait() else { throw TimedOut(what: "release") }
                            }
                        }
                    }
                    try await group.waitForAll()
                }
            }
            #expect(await holding.wait(atLeast: 2))
            let started = ContinuousClock.now
            let error = await #expect(throws: PGError.self) {
                try await pool.withConnection { connection in try await connection.execute("SELECT 1") }
            }
            let waited = PGTest.seconds(since: started)
            release.open()
            try await holders.value
            #expect(error?.kind == .checkoutTimeout)
            // A timeout never fires early; how late it fires depends on the machine's load, so it is not checked.
            #expect(waited >= 0.25)
            // Once connections come back, checkout works again.
            let one = try await PGTest.count(pool, "SELECT 1::int8")
            #expect(one == 1)
        }
    }

    @Test func tooManyWaitersAreRefusedAtOnceWithPoolExhausted() async throws {
        try await PGTest.withPool(
            size: 2,
            configure: {
                $0.maxWaiters = 3
                $0.checkoutTimeout = .seconds(20)
            }
        ) { _, pool in
            let holding = Counter()
            let release = Gate()
            let holders = Task {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for _ in 0..<2 {
                        group.addTask {
                            try await pool.withConnection { _ in
                                holding.increment()
                                guard await release.wait(timeout: .seconds(20)) else { throw TimedOut(what: "release") }
                            }
                        }
                    }
                    try await group.waitForAll()
                }
            }
            #expect(await holding.wait(atLeast: 2))
            let exhausted = Counter()
            let contenders = Task {
                try await withThrowingTaskGroup(of: Bool.self) { group in
                    for _ in 0..<10 {
                        group.addTask {
                            do {
                                return try await pool.withConnection { connection in
                                    try await connection.query("SELECT 1 AS one").first?.decode("one", as: Int.self) == 1
                                }
                            } catch let error as PGError where error.kind == .poolExhausted {
                                exhausted.increment()
                                return false
                            }
                        }
                    }
                    return try await group.reduce(into: [Bool]()) { $0.append($1) }
                }
            }
            // Seven of ten are refused while the three that fit keep waiting.
            let refusedInTime = await exhausted.wait(atLeast: 7)
            release.open()
            let outcomes = try await contenders.value
            try await holders.value
            #expect(refusedInTime)
            #expect(exhausted.value == 7)
            #expect(outcomes.filter { $0 }.count == 3)
        }
    }

    @Test func noWaitersAllowedMeansImmediateRefusal() async throws {
        try await PGTest.withPool(
            size: 1,
            configure: {
                $0.maxWaiters = 0
                $0.checkoutTimeout = .seconds(60)
            }
        ) { _, pool in
            let holding = Counter()
            let release = Gate()
            let holder = Task {
                try await pool.withConnection { _ in
                    holding.increment()
                    guard await release.wait() else { throw TimedOut(what: "release") }
                }
            }
            #expect(await holding.wait(atLeast: 1))
            // Refused, not queued: a queued checkout would end in `checkoutTimeout` after a minute (or in a
            // connection, once the holder is released below, after this call).
            let error = await #expect(throws: PGError.self) {
                try await pool.withConnection { connection in try await connection.execute("SELECT 1") }
            }
            release.open()
            try await holder.value
            #expect(error?.kind == .poolExhausted)
        }
    }

    @Test func aCancelledWaiterLeavesAndDoesNotLeakASlot() async throws {
        try await PGTest.withPool(size: 1, configure: { $0.checkoutTimeout = .seconds(20) }) { _, pool in
            let holding = Counter()
            let release = Gate()
            let holder = Task {
                try await pool.withConnection { _ in
                    holding.increment()
                    guard await release.wait() else { throw TimedOut(what: "release") }
                }
            }
            #expect(await holding.wait(atLeast: 1))
            let waiter = Task {
                try await pool.withConnection { connection in try await connection.execute("SELECT 1") }
            }
            try await Task.sleep(for: .milliseconds(50))
            waiter.cancel()
            // It ends while the connection is still held (released only below), so it left the queue on its own.
            let result = await waiter.result
            #expect(throws: CancellationError.self) { try result.get() }
            release.open()
            try await holder.value
            let after = try await PGTest.count(pool, "SELECT 2::int8")
            #expect(after == 2)
        }
    }

    @Test func aClosedPoolRefusesWork() async throws {
        let database = try await TestDatabase.create()
        let pool = PGPool(configuration: PGPoolConfiguration(conninfo: database.conninfo, size: 2))
        let before = try await PGTest.count(pool, "SELECT 3::int8")
        await pool.close()
        let error = await #expect(throws: PGError.self) {
            try await pool.withConnection { connection in try await connection.execute("SELECT 1") }
        }
        await database.drop()
        #expect(before == 3)
        #expect(error?.kind == .poolClosed)
    }
}
