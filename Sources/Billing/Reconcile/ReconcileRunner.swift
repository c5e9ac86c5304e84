import CoreMetrics
import Foundation
import Logging
import PGClient

/// The bookkeeping around one reconciliation run of one provider, whatever the provider: one run at a time across
/// instances (`ReconcileLock`), a `reconcile_runs` row, `reconcile_recovered_total` and
/// `reconcile_last_success_timestamp_seconds`. The provider's own work (`StripeReconciler`, `StarsReconciler`) is
/// passed in.
public struct ReconcileRunner: Sendable {
    let pool: PGPool
    let logger: Logger
    let metricsFactory: any MetricsFactory
    public var now: @Sendable () -> Date

    public init(
        pool: PGPool, logger: Logger, metricsFactory: any MetricsFactory, now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.pool = pool
        self.logger = logger
        self.metricsFactory = metricsFactory
        self.now = now
    }

    /// One run for one provider over `[since, now]`.
    /// - Parameters:
    ///   - provider: whose lock, run row and metrics.
    ///   - since: the window's start.
    ///   - waitForLock: wait for a run of another instance to end (the CLI) instead of skipping (the periodic run).
    ///   - dryRun: apply nothing, write nothing (no run row); report what would be recovered.
    ///   - work: the provider's reconciliation over the window, with the run's logger.
    public func run(
        _ provider: ReconcileProvider, since: Date, dryRun: Bool, waitForLock: Bool,
        work: (_ since: Date, _ dryRun: Bool, _ logger: Logger) async throws -> ReconcileReport
    ) async throws -> ReconcileReport {
        let end = now()
        var logger = self.logger
        logger[metadataKey: "provider"] = "\(provider.rawValue)"
        if dryRun { return try await work(since, true, logger) }
        let lock = try await ReconcileLock.acquire(
            conninfo: pool.configuration.conninfo, key: provider.lockKey, wait: waitForLock)
        guard let lock else {
            logger.info("reconciliation skipped: another instance is running it")
            return ReconcileReport(provider: provider, skipped: true)
        }
        defer { lock.release() }
        let runID = try await pool.withConnection { connection in
            try await connection.query(
                """
                INSERT INTO reconcile_runs (provider, window_start, window_end)
                VALUES (\(provider.rawValue), \(since), \(end)) RETURNING id
                """
            ).first?.decode("id", as: Int64.self)
        }
        let report: ReconcileReport
        do {
            report = try await work(since, false, logger)
        } catch {
            if let runID {
                _ = try? await pool.withConnection { connection in
                    try await connection.execute(
                        "UPDATE reconcile_runs SET failed = failed + 1, finished_at = now() WHERE id = \(runID)")
                }
            }
            throw error
        }
        if let runID {
            try await pool.withConnection { connection in
                try await connection.execute(
                    """
                    UPDATE reconcile_runs SET seen = \(report.seen), recovered = \(report.recovered),
                        failed = \(report.failed), finished_at = now()
                    WHERE id = \(runID)
                    """)
            }
        }
        let dimensions = [("provider", provider.rawValue)]
        if report.recovered > 0 {
            Counter(label: "reconcile_recovered_total", dimensions: dimensions, factory: metricsFactory)
                .increment(by: report.recovered)
            logger.warning(
                "reconciliation recovered payments whose webhooks never arrived",
                metadata: ["recovered": "\(report.recovered)", "seen": "\(report.seen)"])
        }
        if report.failed == 0 {
            Gauge(label: "reconcile_last_success_timestamp_seconds", dimensions: dimensions, factory: metricsFactory)
                .record(end.timeIntervalSince1970)
        } else {
            logger.error("reconciliation left payments it could not apply", metadata: ["failed": "\(report.failed)"])
        }
        return report
    }
}
