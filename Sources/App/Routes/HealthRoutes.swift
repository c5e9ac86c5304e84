import Hummingbird
import PGClient

/// `GET /health/live` (the process runs) and `GET /health/ready` (the database answers `SELECT 1` in time).
enum HealthRoutes: AppModule {
    struct Status: ResponseEncodable {
        let status: String
    }

    static func addRoutes(to router: AppRouter, config: AppConfig, dependencies: AppDependencies) {
        router.get("/health/live") { _, _ in Status(status: "live") }
        let pool = dependencies.pool
        let timeout = dependencies.readinessTimeout
        router.get("/health/ready") { _, context in
            do {
                try await databaseAnswers(pool: pool, timeout: timeout)
                return Status(status: "ready")
            } catch {
                context.logger.warning("readiness check failed", metadata: ["error": "\(error)"])
                throw ProblemError.serviceUnavailable("the database is not answering")
            }
        }
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
        _ = try await pool.withConnection { connection in try connection.execute("SELECT 1") }
    }
}
