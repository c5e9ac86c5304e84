import Foundation
import PGClient
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `PGExecutor`: tasks that prefer the reactor run there, and a statement's result resumes them on that same thread.
@Suite struct ReactorExecutorTests {
    @Test func aTaskThatPrefersTheReactorIsResumedOnItsThreadAfterEveryRoundTrip() async throws {
        try await PGTest.withPool(size: 2) { _, pool in
            let threads = try await withTaskExecutorPreference(PGExecutor.shared) {
                try await pool.withConnection { connection in
                    var seen: Set<UInt> = [UInt(pthread_self())]
                    for index in 0..<50 {
                        let echoed = try await connection.query("SELECT \(index)::int8 AS i").first?.decode("i", as: Int.self)
                        #expect(echoed == index)
                        seen.insert(UInt(pthread_self()))
                    }
                    return seen
                }
            }
            // One thread throughout: the reactor's (no hop to the cooperative pool and back).
            #expect(threads.count == 1)
        }
    }

    @Test func manyTasksOnTheReactorAtOnceAllFinish() async throws {
        try await PGTest.withPool(size: 8) { _, pool in
            // Tasks queued from other threads (the group's children start elsewhere) and from the reactor itself
            // (resumed continuations): none may be lost between a queue and the loop's wake-up.
            let sums = try await withThrowingTaskGroup(of: Int.self) { group in
                for task in 0..<400 {
                    group.addTask {
                        try await withTaskExecutorPreference(PGExecutor.shared) {
                            var sum = 0
                            for step in 0..<5 {
                                sum += try await pool.withConnection { connection in
                                    try await connection.query("SELECT \(task * 10 + step)::int8 AS i").first?.decode("i", as: Int.self)
                                        ?? -1
                                }
                                await Task.yield()
                            }
                            return sum
                        }
                    }
                }
                return try await group.reduce(into: [Int]()) { $0.append($1) }
            }
            // Task t sums 10t + 0 … 10t + 4 = 50t + 10.
            let expected = (0..<400).map { 50 * $0 + 10 }.reduce(0, +)
            #expect(sums.count == 400)
            #expect(sums.reduce(0, +) == expected)
        }
    }
}
