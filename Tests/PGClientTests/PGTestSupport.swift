import Foundation
import PGClient
import Synchronization
import TestSupport

/// Helpers shared by the PGClient suites: pools with custom configurations on fresh databases, counters and gates
/// that work from both async tests and the synchronous closures that run on pool threads.
enum PGTest {
    /// A fresh database (cloned from the migrated template, or empty when `template` is nil) with a pool of `size`
    /// configured by `configure`; closed and dropped afterwards.
    static func withPool<T: Sendable>(
        size: Int = 4,
        template: String? = TestEnvironment.template,
        configure: (inout PGPoolConfiguration) -> Void = { _ in },
        _ body: (TestDatabase, PGPool) async throws -> T
    ) async throws -> T {
        try await TestDatabase.with(poolSize: size, template: template, configure: configure, body)
    }

    /// Runs fixed SQL text (DDL of the test itself) on the pool.
    static func setUp(_ pool: PGPool, _ sql: String) async throws {
        try await pool.withConnection { try await $0.unsafeExecute(sql) }
    }

    /// `SELECT count(*)`-style query returning one integer.
    static func count(_ pool: PGPool, _ query: PGQuery) async throws -> Int64 {
        try await pool.withConnection { connection in
            let row = try await connection.query(query).first
            return try row?.decode(at: 0, as: Int64.self) ?? -1
        }
    }

    /// Opens `connections` connections at once (each unit sleeps briefly so they overlap), so later measurements
    /// time queries rather than connects.
    static func warmUp(_ pool: PGPool, connections: Int) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<connections {
                group.addTask { _ = try await pool.withConnection { try await $0.execute("SELECT pg_sleep(0.05)") } }
            }
            try await group.waitForAll()
        }
    }

    /// Seconds since `start`, as a Double.
    static func seconds(since start: ContinuousClock.Instant) -> Double {
        let elapsed = ContinuousClock.now - start
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }
}

/// A thread-safe counter usable from `@Sendable` closures.
final class Counter: Sendable {
    private let storage = Atomic<Int>(0)

    init() {}

    @discardableResult
    func increment() -> Int { storage.add(1, ordering: .sequentiallyConsistent).newValue }

    var value: Int { storage.load(ordering: .sequentiallyConsistent) }

    /// Suspends the calling task until the counter reaches `target`; false on timeout.
    func wait(atLeast target: Int, timeout: Duration = .seconds(10)) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while value < target {
            if ContinuousClock.now > deadline { return false }
            try? await Task.sleep(for: .milliseconds(2))
        }
        return true
    }
}

/// A one-way flag: closed until `open()`.
final class Gate: Sendable {
    private let opened = Atomic<Bool>(false)

    init() {}

    func open() { opened.store(true, ordering: .sequentiallyConsistent) }

    var isOpen: Bool { opened.load(ordering: .sequentiallyConsistent) }

    /// Suspends the calling task until the gate opens; false on timeout.
    func wait(timeout: Duration = .seconds(10)) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while !isOpen {
            if ContinuousClock.now > deadline { return false }
            try? await Task.sleep(for: .milliseconds(2))
        }
        return true
    }
}

/// Thrown by tests to force a rollback.
struct Boom: Error, Equatable {}

/// A test step that did not happen in time.
struct TimedOut: Error, CustomStringConvertible {
    let what: String
    var description: String { "timed out: \(what)" }
}
