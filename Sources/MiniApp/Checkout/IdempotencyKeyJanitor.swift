import Logging
import PGClient
import ServiceLifecycle

/// Purges idempotency keys older than 24 h, hourly; stops with graceful shutdown.
public struct IdempotencyKeyJanitor: Service {
    let pool: PGPool
    let interval: Duration
    let logger: Logger

    public init(pool: PGPool, interval: Duration = .seconds(3600), logger: Logger) {
        self.pool = pool
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    let purged = try await pool.withConnection { try await IdempotencyStore.purge($0) }
                    if purged > 0 { logger.info("purged idempotency keys", metadata: ["count": "\(purged)"]) }
                } catch {
                    logger.warning("idempotency key purge failed", metadata: ["error": "\(error)"])
                }
                try await Task.sleep(for: interval)
            }
        }
    }
}
