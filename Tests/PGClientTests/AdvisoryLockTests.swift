import Foundation
import PGClient
import TestSupport
import Testing

/// Advisory locks exclude other sessions; transaction-scoped ones end with the transaction.
@Suite struct AdvisoryLockTests {
    /// Two one-connection pools on one database: two distinct sessions.
    private static func withTwoSessions(_ body: (PGPool, PGPool) async throws -> Void) async throws {
        let database = try await TestDatabase.create()
        let first = PGPool(configuration: PGPoolConfiguration(conninfo: database.conninfo, size: 1))
        let second = PGPool(configuration: PGPoolConfiguration(conninfo: database.conninfo, size: 1))
        do {
            try await body(first, second)
        } catch {
            await first.close()
            await second.close()
            await database.drop()
            throw error
        }
        await first.close()
        await second.close()
        await database.drop()
    }

    @Test func aSessionLockExcludesOtherSessionsUntilUnlocked() async throws {
        try await Self.withTwoSessions { first, second in
            let key: Int64 = 0x5eed_0001
            let firstGot = try await first.withConnection { try await $0.tryAdvisoryLock(key) }
            let secondWhileHeld = try await second.withConnection { try await $0.tryAdvisoryLock(key) }
            let firstAgain = try await first.withConnection { try await $0.tryAdvisoryLock(key) }
            let released = try await first.withConnection { connection in
                // Session locks stack: the two acquisitions need two unlocks.
                (
                    try await connection.advisoryUnlock(key), try await connection.advisoryUnlock(key),
                    try await connection.advisoryUnlock(key)
                )
            }
            let secondAfter = try await second.withConnection { try await $0.tryAdvisoryLock(key) }
            let otherKey = try await first.withConnection { try await $0.tryAdvisoryLock(key + 1) }
            #expect(firstGot)
            #expect(!secondWhileHeld)
            #expect(firstAgain)
            #expect(released.0 && released.1 && !released.2)
            #expect(secondAfter)
            #expect(otherKey)
        }
    }

    @Test func aTransactionLockIsReleasedOnCommit() async throws {
        try await Self.withTwoSessions { first, second in
            let key: Int64 = -42
            let locked = Gate()
            let checked = Gate()
            let holder = Task {
                try await first.transaction { tx in
                    guard try await tx.tryAdvisoryTransactionLock(key) else { return false }
                    locked.open()
                    guard await checked.wait() else { throw TimedOut(what: "the other session's check") }
                    return true
                }
            }
            while !locked.isOpen { try await Task.sleep(for: .milliseconds(2)) }
            let duringTransaction = try await second.withConnection { try await $0.tryAdvisoryLock(key) }
            checked.open()
            let holderGotIt = try await holder.value
            let afterCommit = try await second.transaction { try await $0.tryAdvisoryTransactionLock(key) }
            let heldByFirst = try await first.withConnection { connection in
                try await connection.query("SELECT count(*) AS n FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()")
                    .first?.decode("n", as: Int.self)
            }
            #expect(holderGotIt)
            #expect(!duringTransaction)
            #expect(afterCommit)
            #expect(heldByFirst == 0)
        }
    }

    @Test func aWaitingTransactionLockIsGrantedWhenTheHolderRollsBack() async throws {
        try await Self.withTwoSessions { first, second in
            let key: Int64 = 7_777
            let locked = Gate()
            let waited = try await withThrowingTaskGroup(of: Double.self) { group in
                group.addTask {
                    await #expect(throws: Boom.self) {
                        try await first.transaction { tx in
                            try await tx.advisoryTransactionLock(key)
                            locked.open()
                            try await Task.sleep(for: .milliseconds(200))
                            throw Boom()
                        }
                    }
                    return 0
                }
                group.addTask {
                    while !locked.isOpen { try await Task.sleep(for: .milliseconds(2)) }
                    let started = ContinuousClock.now
                    try await second.transaction { try await $0.advisoryTransactionLock(key) }
                    return PGTest.seconds(since: started)
                }
                return try await group.reduce(0) { max($0, $1) }
            }
            // The second session blocked until the first one's rollback released the lock.
            #expect(waited > 0.1)
        }
    }
}
