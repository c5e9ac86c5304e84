import Foundation
import PGClient
import TestSupport
import Testing

/// Blocking libpq calls run on the pool's own threads: a slow query holds one of them and nothing else.
///
/// These tests measure progress of other work while slow queries run. Other suites in the same test process can
/// stall the whole cooperative pool for a moment (a blocking call of theirs), which looks the same from here, so
/// each measurement gets up to three attempts: a PGClient that blocked the cooperative pool would fail all three.
@Suite struct NonBlockingTests {
    private static let attempts = 3

    struct SlowQueryObservation {
        var quickFinishedFirst = false
        var slowestQuick = 0.0
        var slowStillRunning = 0.0
        var ticks = 0
        var longestGap = 0.0

        /// A 10 ms sleep loop during 1.5 s: about 140 iterations on an idle machine, still dozens when the other
        /// suites load both cores; a loop stuck behind the query would see one long gap and almost no iterations.
        var isGood: Bool {
            quickFinishedFirst && slowestQuick < 0.5 && slowStillRunning > 0.3 && ticks >= 10 && longestGap < 1.0
        }
    }

    private static func observeOneSlowQuery(_ pool: PGPool) async throws -> SlowQueryObservation {
        let slowStarted = Gate()
        let slowDone = Gate()
        let slow = Task {
            try await pool.withConnection { connection in
                slowStarted.open()
                try await connection.execute("SELECT pg_sleep(1.5)")
            }
            slowDone.open()
        }
        let ticker = Task {
            var ticks = 0
            var longestGap = 0.0
            var last = ContinuousClock.now
            while !slowDone.isOpen {
                try? await Task.sleep(for: .milliseconds(10))
                longestGap = max(longestGap, PGTest.seconds(since: last))
                last = ContinuousClock.now
                ticks += 1
            }
            return (ticks, longestGap)
        }
        while !slowStarted.isOpen { try await Task.sleep(for: .milliseconds(1)) }
        var observation = SlowQueryObservation()
        // Quick queries on the other connections complete while the slow one is still running.
        for index in 0..<20 {
            let started = ContinuousClock.now
            let echoed = try await pool.withConnection { connection in
                try await connection.query("SELECT \(index)::int8 AS i").first?.decode("i", as: Int.self)
            }
            observation.slowestQuick = max(observation.slowestQuick, PGTest.seconds(since: started))
            #expect(echoed == index)
        }
        observation.quickFinishedFirst = !slowDone.isOpen
        let quickDone = ContinuousClock.now
        try await slow.value
        observation.slowStillRunning = PGTest.seconds(since: quickDone)
        (observation.ticks, observation.longestGap) = await ticker.value
        return observation
    }

    @Test func aSlowQueryDoesNotDelayOtherAsyncWorkOrOtherConnections() async throws {
        try await PGTest.withPool(size: 4) { _, pool in
            // Open the other connections first, so the quick queries below measure queries, not connects.
            try await PGTest.warmUp(pool, connections: 4)
            var observations: [SlowQueryObservation] = []
            for _ in 0..<Self.attempts {
                let observation = try await Self.observeOneSlowQuery(pool)
                observations.append(observation)
                if observation.isGood { break }
            }
            let last = try #require(observations.last)
            #expect(last.isGood, "observations: \(observations)")
            #expect(last.quickFinishedFirst)
            #expect(last.slowestQuick < 0.5)
            #expect(last.slowStillRunning > 0.3, "the slow query was still running after the quick ones")
            #expect(last.ticks >= 10, "ticks: \(last.ticks)")
            #expect(last.longestGap < 1.0, "longest gap: \(last.longestGap) s")
        }
    }

    /// Iterations of `taskCount` cooperative tasks while `size` one-second queries occupy every pool thread.
    private static func iterationsDuringSlowQueries(_ pool: PGPool, size: Int, taskCount: Int) async throws -> [Int] {
        let sleeping = Counter()
        let finished = Gate()
        let slow = Task {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<size {
                    group.addTask {
                        _ = try await pool.withConnection { connection in
                            sleeping.increment()
                            try await connection.execute("SELECT pg_sleep(1)")
                        }
                    }
                }
                try await group.waitForAll()
            }
            finished.open()
        }
        guard await sleeping.wait(atLeast: size) else { throw TimedOut(what: "the slow queries to start") }
        let workers = Task {
            await withTaskGroup(of: Int.self) { group in
                for seed in 0..<taskCount {
                    group.addTask {
                        var iterations = 0
                        var checksum = seed
                        while !finished.isOpen {
                            // A little CPU work and a short suspension, like request handling.
                            for value in 0..<200 { checksum = checksum &* 31 &+ value }
                            await Task.yield()
                            try? await Task.sleep(for: .milliseconds(10))
                            iterations += 1
                        }
                        // (checksum is used so the arithmetic above is not optimised away)
                        return checksum == 42 ? iterations + 1 : iterations
                    }
                }
                return await group.reduce(into: [Int]()) { $0.append($1) }
            }
        }
        try await slow.value
        return await workers.value
    }

    @Test func slowQueriesOnEveryPoolThreadLeaveTheCooperativePoolFree() async throws {
        // As many slow queries as the pool has threads (more than this machine's cores, which is the width of
        // Swift's cooperative pool): if libpq ran there, every task below would stall for the whole second.
        let size = max(4, ProcessInfo.processInfo.activeProcessorCount + 2)
        let taskCount = 100
        try await PGTest.withPool(size: size) { _, pool in
            try await PGTest.warmUp(pool, connections: size)
            // About 100 iterations each on an idle machine, 6 or more with all suites running on 2 cores; had the
            // sleeps occupied the cooperative threads, no task could have run at all until they ended.
            func isGood(_ iterations: [Int]) -> Bool {
                iterations.count == taskCount && (iterations.min() ?? 0) >= 2 && iterations.reduce(0, +) >= taskCount * 3
            }
            var iterations: [Int] = []
            for _ in 0..<Self.attempts {
                iterations = try await Self.iterationsDuringSlowQueries(pool, size: size, taskCount: taskCount)
                if isGood(iterations) { break }
            }
            #expect(iterations.count == taskCount)
            #expect((iterations.min() ?? 0) >= 2, "fewest iterations: \(iterations.min() ?? 0)")
            #expect(iterations.reduce(0, +) >= taskCount * 3, "iterations: \(iterations.reduce(0, +))")
        }
    }
}
