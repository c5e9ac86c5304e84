import Hummingbird
import PGClient

/// `GET /health/live` (the process runs) and `GET /health/ready` (the database answers `SELECT 1` in time; the answer
/// is reused for `readinessCacheTTL`, about a second, so a flood of probes costs the database one query a second).
struct HealthController: AppModule, Sendable {
    struct Status: ResponseEncodable {
        let status: String
    }

    let readiness: ReadinessCache

    static func addRoutes(to router: AppRouter, config: AppConfig, dependencies: AppDependencies) {
        let pool = dependencies.pool
        let timeout = dependencies.readinessTimeout
        let controller = Self(
            readiness: ReadinessCache(ttl: dependencies.readinessCacheTTL) {
                try await databaseAnswers(pool: pool, timeout: timeout)
            })
        router.get("/health/live", use: controller.live)
        router.get("/health/ready", use: controller.ready)
    }

    @Sendable func live(_ request: Request, context: AppRequestContext) -> Status {
        Status(status: "live")
    }

    @Sendable func ready(_ request: Request, context: AppRequestContext) async throws -> Status {
        if let failure = await readiness.check() {
            context.logger.warning("readiness check failed", metadata: ["error": "\(failure)"])
            throw ProblemError.serviceUnavailable("the database is not answering")
        }
        return Status(status: "ready")
    }

    /// `SELECT 1` through the pool within `timeout`. A connection found dead (the server restarted) is
    /// replaced once, so the first check after a restart already reports the truth.
    static func databaseAnswers(pool: PGPool, timeout: Duration) async throws {
        try await withDeadline(timeout) {
            do {
                try await selectOne(pool)
            } catch let error as PGError where error.isConnectionLost {
                try await selectOne(pool)
            }
        }
    }

    private static func selectOne(_ pool: PGPool) async throws {
        _ = try await pool.withConnection { connection in try await connection.execute("SELECT 1") }
    }
}

/// The last readiness answer, reused while younger than `ttl`. Callers arriving while a check runs wait for that
/// check instead of starting their own, so at most one check runs at a time and at most one per `ttl`.
actor ReadinessCache {
    private let ttl: Duration
    private let probe: @Sendable () async throws -> Void
    private var last: (at: ContinuousClock.Instant, failure: String?)?
    private var running: Task<String?, Never>?
    /// Checks actually run (tests count them).
    private(set) var checksRun = 0

    init(ttl: Duration, probe: @escaping @Sendable () async throws -> Void) {
        self.ttl = ttl
        self.probe = probe
    }

    /// nil when ready, else what failed.
    func check() async -> String? {
        if let last, ContinuousClock.now - last.at < ttl { return last.failure }
        if let running { return await running.value }
        checksRun += 1
        let probe = self.probe
        let task = Task<String?, Never> {
            do {
                try await probe()
                return nil
            } catch {
                return "\(error)"
            }
        }
        running = task
        let failure = await task.value
        last = (ContinuousClock.now, failure)
        running = nil
        return failure
    }
}
