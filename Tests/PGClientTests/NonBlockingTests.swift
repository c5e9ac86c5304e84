import Foundation
import PGClient
import TestSupport
import Testing

/// A statement waiting on the server holds no thread: the task that sent it is suspended, nothing blocks in libpq.
///
/// Decided by order, not by time. More statements than Swift's cooperative pool has threads wait on a lock the test
/// holds; other queries and plain async work must finish while every one of them is still waiting. Had the waiting
/// statements blocked their threads, nothing else could run until their `lock_timeout` freed them, and the
/// "still waiting" check below would fail.
@Suite struct NonBlockingTests {
    /// Statements waiting at once: well above the width of the cooperative pool (the machine's cores).
    private static var waiting: Int { max(8, ProcessInfo.processInfo.activeProcessorCount * 4) }
    private static let lockKey: Int64 = 7_340_001

    @Test func statementsWaitingOnTheServerLeaveThreadsAndOtherConnectionsFree() async throws {
        let waiting = Self.waiting
        try await PGTest.withPool(size: waiting + 4) { _, pool in
            try await PGTest.warmUp(pool, connections: waiting + 4)
            let finishedWaiting = Counter()
            // The holder: a connection of its own, so the pool's connections are all available to the test.
            try await pool.withConnection { holder in
                try await holder.execute("SELECT pg_advisory_lock(\(Self.lockKey))")
                let waiters = Task {
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        for _ in 0..<waiting {
                            group.addTask {
                                _ = try await pool.transaction { tx in
                                    // A failure bound only: frees a (wrongly) blocked thread so the test ends.
                                    try await tx.execute("SET LOCAL lock_timeout = '60s'")
                                    try await tx.execute("SELECT pg_advisory_xact_lock_shared(\(Self.lockKey))")
                                }
                                _ = finishedWaiting.increment()
                            }
                        }
                        try await group.waitForAll()
                    }
                }
                // Every waiter is on the server, waiting for the lock.
                let arrived = await Self.eventually {
                    try await holder.query(
                        """
                        SELECT count(*) AS n FROM pg_stat_activity
                        WHERE datname = current_database() AND wait_event_type = 'Lock'
                          AND query LIKE '%pg_advisory_xact_lock_shared%'
                        """
                    ).first?.decode("n", as: Int.self) == waiting
                }
                #expect(arrived, "the waiting statements did not all reach the server")

                // Meanwhile: queries on the other connections and plain async work, many more tasks than threads.
                let echoed = try await withThrowingTaskGroup(of: Int.self) { group in
                    for index in 0..<40 {
                        group.addTask {
                            try await Task.sleep(for: .milliseconds(1))
                            await Task.yield()
                            return try await pool.withConnection { connection in
                                try await connection.query("SELECT \(index)::int8 AS i").first?.decode("i", as: Int.self) ?? -1
                            }
                        }
                    }
                    return try await group.reduce(into: [Int]()) { $0.append($1) }
                }
                #expect(echoed.sorted() == Array(0..<40))
                #expect(finishedWaiting.value == 0, "a waiting statement finished before the lock was released")

                try await holder.execute("SELECT pg_advisory_unlock(\(Self.lockKey))")
                try await waiters.value
            }
            #expect(finishedWaiting.value == waiting)
        }
    }

    /// Polls `condition` until it holds; false after a generous bound (a bound on waiting, not a speed check).
    private static func eventually(_ condition: () async throws -> Bool) async -> Bool {
        for _ in 0..<600 {
            if (try? await condition()) == true { return true }
            try? await Task.sleep(for: .milliseconds(100))
        }
        return false
    }
}
