import Logging
import PGClient
import ServiceLifecycle

/// Runs `AccessExpiryNotices` every `interval` (and once at start); stops with graceful shutdown. Several
/// instances may run it at once: the outbox key queues each message once.
public struct AccessExpiryService: Service {
    let pool: PGPool
    let interval: Duration
    let logger: Logger

    public init(pool: PGPool, interval: Duration = .seconds(600), logger: Logger) {
        self.pool = pool
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                await runOnce()
                try await Task.sleep(for: interval)
            }
        }
    }

    /// One pass; errors are logged and the next pass tries again.
    @discardableResult
    public func runOnce() async -> AccessExpiryNotices.Report? {
        do {
            let report = try await pool.withConnection { try await AccessExpiryNotices.enqueueDue($0) }
            if report.ending + report.ended > 0 {
                logger.info(
                    "access expiry messages queued", metadata: ["ending": "\(report.ending)", "ended": "\(report.ended)"])
            }
            return report
        } catch {
            logger.warning("access expiry scan failed", metadata: ["error": "\(error)"])
            return nil
        }
    }
}
