import Logging
import Metrics
import NIOPosix
import ServiceLifecycle
import Synchronization

/// A fixed-size pool of libpq connections with its own I/O threads.
///
/// Work is a synchronous closure over one connection. It runs on one of the pool's threads (never on a SwiftNIO
/// event loop or Swift's cooperative pool) and the awaiting task resumes when it ends. Connections open lazily, are
/// replaced when libpq reports them broken, and a broken one makes the pool drop its idle connections too (after a
/// server restart they are all dead), so work succeeds again as soon as the server is back.
public final class PGPool: Sendable, Service {
    public let configuration: PGPoolConfiguration
    let logger: Logger
    let threads: NIOThreadPool
    let state: Mutex<State>
    let waiterIDs = Atomic<UInt64>(0)
    let metrics: PGPoolMetrics

    struct Waiter {
        let id: UInt64
        let continuation: CheckedContinuation<Lease, any Error>
        var timeout: Task<Void, Never>?
    }

    /// What a checkout hands out: an open connection, or a reserved slot in which to open one.
    enum Lease {
        case connection(PGConnection)
        case open
    }

    struct State {
        var idle: [PGConnection] = []
        /// Connections open or being opened (idle + in use + opening).
        var open = 0
        var waiters: [Waiter] = []
        var closed = false

        var gauges: (idle: Int, inUse: Int) { (idle.count, open - idle.count) }
    }

    /// - Parameters:
    ///   - configuration: connection string, size and limits.
    ///   - logger: receives connection failures and replacements (never the connection string).
    public init(configuration: PGPoolConfiguration, logger: Logger = Logger(label: "telebot.pg")) {
        self.configuration = configuration
        self.logger = logger
        self.threads = NIOThreadPool(numberOfThreads: configuration.size)
        self.threads.start()
        self.state = Mutex(State())
        self.metrics = PGPoolMetrics()
        metrics.record(idle: 0, inUse: 0)
    }

    /// Runs `body` with a connection on a pool thread. The result may be ignored (a statement run for its effect).
    @discardableResult
    public func withConnection<T: Sendable>(
        _ body: @escaping @Sendable (PGConnection) throws -> T
    ) async throws -> T {
        let connection = try await checkout()
        do {
            let value = try await threads.runIfActive {
                defer {
                    // A unit of work must not leave a transaction open for the next user of the connection.
                    if connection.inTransactionBlock { try? connection.unsafeExecute("ROLLBACK") }
                }
                return try body(connection)
            }
            checkin(connection)
            return value
        } catch {
            checkin(connection)
            throw error
        }
    }

    /// Runs `body` inside one transaction, retrying the whole transaction (a bounded number of times, with
    /// jittered backoff) on serialization failures, deadlocks, and connection failures before anything ran.
    public func transaction<T: Sendable>(
        isolation: PGIsolation = .readCommitted,
        _ body: @escaping @Sendable (PGConnection) throws -> T
    ) async throws -> T {
        var attempt = 1
        while true {
            do {
                return try await withConnection { connection in
                    try connection.inTransaction(isolation: isolation, body)
                }
            } catch let error as PGError
                where (error.isTransactionRetryable || error.safeToRetry)
                && attempt < configuration.maxTransactionAttempts
            {
                let backoff = min(200, 2 << min(attempt, 7))
                try await Task.sleep(for: .milliseconds(Int.random(in: 1...backoff)))
                attempt += 1
            }
        }
    }

    /// Service: waits for graceful shutdown, then closes the pool. Put the pool first in a `ServiceGroup`, so it
    /// shuts down last, after the HTTP server has finished its requests.
    public func run() async throws {
        try? await gracefulShutdown()
        await close()
    }

    /// Refuses new work, fails waiters, closes idle connections, waits (bounded) for in-use ones, stops the threads.
    public func close(drainTimeout: Duration = .seconds(10)) async {
        let (idle, waiters) = state.withLock { state in
            state.closed = true
            let idle = state.idle
            state.open -= idle.count
            state.idle = []
            let waiters = state.waiters
            state.waiters = []
            return (idle, waiters)
        }
        for waiter in waiters {
            waiter.timeout?.cancel()
            waiter.continuation.resume(throwing: PGError(kind: .poolClosed, message: "pool is closed"))
        }
        for connection in idle { connection.close() }
        let deadline = ContinuousClock.now + drainTimeout
        while state.withLock({ $0.open }) > 0, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(10))
        }
        metrics.record(idle: 0, inUse: 0)
        try? await threads.shutdownGracefully()
    }

    /// Connections idle and in use right now.
    public var connectionCounts: (idle: Int, inUse: Int) { state.withLock { $0.gauges } }
}
