import AsyncHTTPClient
import Foundation
import Logging
import Marketing
import PGClient
import ServiceLifecycle

/// Everything routes and background services use, built once by `serve` (or by a test) and passed by hand.
///
/// To give a module's routes something new (a Stripe client, a JWT signer), add a field here with a default or an
/// optional, build it in `ServeCommand.run` (tests build their own), and read it in your `AppModule`.
struct AppDependencies: Sendable {
    /// The database pool. `serve` runs it as the first service of the group, so it closes last.
    var pool: PGPool
    /// The shared outbound HTTP client (Stripe, Telegram); nil in tests that make no outbound calls.
    var httpClient: HTTPClient?
    /// Base logger (label `telebot`); requests get a child with `request_id`.
    var logger: Logger
    /// Prometheus registry and factory (`/metrics`, HTTP metrics, contract metrics).
    var metrics: AppMetrics
    /// Wall clock for domain rules (token expiry, initData age); tests can shift it.
    var clock: AppClock
    /// Long-running background work (schedulers, retry workers), run between the pool and the HTTP server in the
    /// service group: started after the pool, stopped before it, after the server has drained.
    var services: [any Service]
    /// How long `/health/ready` waits for `SELECT 1`.
    var readinessTimeout: Duration
    /// Mini App sessions, auth and checkout (built asynchronously: JWT keys live in an actor); the Mini App routes
    /// are off while nil.
    var miniApp: MiniAppServices?
    /// Batches Mini App click inserts (run as a service by `serve`); clicks are inserted one by one while nil.
    var clickWriter: BatchedClickWriter?
    /// The Bot API and Stripe clients and the Stripe processor, built once (`serve` sets them; `buildRouter` builds
    /// them when nil).
    var clients: AppClients?
    /// The log line queue whose dropped lines `/metrics` reports (`log_lines_dropped_total`).
    var logLines: LineWriter = .standardOutput
    /// How long `/health/ready` reuses its last database answer, so a flood of probes runs at most one `SELECT 1`
    /// per period.
    var readinessCacheTTL: Duration = .seconds(1)

    init(
        pool: PGPool,
        httpClient: HTTPClient? = nil,
        logger: Logger = Logger(label: "telebot"),
        metrics: AppMetrics = AppMetrics(),
        clock: AppClock = AppClock(),
        services: [any Service] = [],
        readinessTimeout: Duration = .seconds(2)
    ) {
        self.pool = pool
        self.httpClient = httpClient
        self.logger = logger
        self.metrics = metrics
        self.clock = clock
        self.services = services
        self.readinessTimeout = readinessTimeout
    }
}

/// The current time, injectable.
struct AppClock: Sendable {
    let now: @Sendable () -> Date

    init(now: @escaping @Sendable () -> Date = { Date() }) {
        self.now = now
    }
}
