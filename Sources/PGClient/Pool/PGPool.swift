import DequeModule
import Logging
import Metrics
import ServiceLifecycle
import Support
import Synchronization

/// A fixed-size pool of non-blocking libpq connections.
///
/// Work is an async closure over one connection, run by the calling task itself: it sends its statements and
/// suspends on the reactor, so no thread is handed the work and none blocks. Connections open lazily, are replaced
/// when libpq reports them broken, and a broken one makes the pool drop its idle connections too (after a server
/// restart they are all dead), so work succeeds again as soon as the server is back.
public final class PGPool: Sendable, Service {
    public let configuration: PGPoolConfiguration
    let logger: Logger
    let state: Mutex<State>
    private let metricsHandles = Mutex(PGPoolMetrics())
    /// The handles the pool records into (changed only by `reportMetrics(to:)`).
    var metrics: PGPoolMetrics { metricsHandles.withLock { $0 } }

    struct Waiter {
        let continuation: CheckedContinuation<Lease, any Error>
        let deadline: ContinuousClock.Instant
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
        /// Waiting tasks by id; `order` is their arrival order. A cancelled waiter leaves the dictionary at once
        /// (O(1)) and its id is skipped when it reaches the front of `order`.
        var waiters: [UInt64: Waiter] = [:]
        var order: Deque<UInt64> = []
        var nextWaiterID: UInt64 = 0
        /// One timer task expires waiters (in arrival order, which is deadline order); none runs while nobody waits.
        var timerRunning = false
        var closed = false

        var gauges: (idle: Int, inUse: Int) { (idle.count, open - idle.count) }

        /// The oldest waiter still waiting.
        mutating func popWaiter() -> Waiter? {
            while let id = order.popFirst() {
                if let waiter = waiters.removeValue(forKey: id) { return waiter }
            }
            return nil
        }
    }

    /// - Parameters:
    ///   - configuration: connection string, size and limits.
    ///   - logger: receives connection failures and replacements (never the connection string).
    public init(configuration: PGPoolConfiguration, logger: Logger = Logger(label: "telebot.pg")) {
        self.configuration = configuration
        self.logger = logger
        self.state = Mutex(State())
        metrics.record(idle: 0, inUse: 0)
    }

    /// Records the pool's gauges and checkout waits into `factory` from now on (the application's registry), starting
    /// with the current counts. Call it once, when the application is assembled.
    public func reportMetrics(to factory: any MetricsFactory) {
        let handles = PGPoolMetrics(factory: factory)
        metricsHandles.withLock { $0 = handles }
        let counts = connectionCounts
        handles.record(idle: counts.idle, inUse: counts.inUse)
    }

    /// Runs `body` with a connection. The result may be ignored (a statement run for its effect). A transaction
    /// the body left open is rolled back before the connection goes back.
    @discardableResult
    public func withConnection<T: Sendable>(
        _ body: @Sendable (PGConnection) async throws -> T
    ) async throws -> T {
        let connection = try await checkout()
        do {
            let value = try await body(connection)
            await release(connection)
            return value
        } catch {
            await release(connection)
            throw error
        }
    }

    /// Runs `body` inside one transaction, retrying the whole transaction (a bounded number of times, with
    /// jittered backoff) on serialization failures, deadlocks, and connection failures before anything committed.
    /// The body awaits only its own statements: never Stripe, Telegram, a sleep or anything outside the database.
    public func transaction<T: Sendable>(
        isolation: PGIsolation = .readCommitted,
        _ body: @Sendable (PGConnection) async throws -> T
    ) async throws -> T {
        var attempt = 1
        while true {
            do {
                return try await withConnection { connection in
                    try await connection.inTransaction(isolation: isolation, body)
                }
            } catch let error as PGError
                where (error.isTransactionRetryable || error.safeToRetry)
                && attempt < configuration.maxTransactionAttempts
            {
                try await Task.sleep(for: Self.transactionRetryBackoff.delay(attempt))
                attempt += 1
            }
        }
    }

    /// Between attempts of a transaction: 4, 8, 16 … ms, at most 200 ms, jittered (two deadlocked transactions
    /// should not meet again).
    static let transactionRetryBackoff = Backoff(base: .milliseconds(4), cap: .milliseconds(200))

    /// Service: waits for graceful shutdown, then closes the pool. Put the pool first in a `ServiceGroup`, so it
    /// shuts down last, after the HTTP server has finished its requests.
    public func run() async throws {
        try? await gracefulShutdown()
        await close()
    }

    /// Refuses new work, fails waiters, closes idle connections, waits (bounded) for in-use ones.
    public func close(drainTimeout: Duration = .seconds(10)) async {
        let (idle, waiters) = state.withLock { state in
            state.closed = true
            let idle = state.idle
            state.open -= idle.count
            state.idle = []
            var waiters: [Waiter] = []
            while let waiter = state.popWaiter() { waiters.append(waiter) }
            return (idle, waiters)
        }
        for waiter in waiters {
            waiter.continuation.resume(throwing: PGError(kind: .poolClosed, message: "pool is closed"))
        }
        for connection in idle { connection.close() }
        let deadline = ContinuousClock.now + drainTimeout
        while state.withLock({ $0.open }) > 0, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(10))
        }
        metrics.record(idle: 0, inUse: 0)
    }

    /// Connections idle and in use right now.
    public var connectionCounts: (idle: Int, inUse: Int) { state.withLock { $0.gauges } }

    /// Tasks waiting for a connection right now.
    public var waiterCount: Int { state.withLock { $0.waiters.count } }
}
