import Billing
import CoreMetrics
import Foundation
import Logging
import ServiceLifecycle

/// The periodic reconciliation inside `serve`: every `RECONCILE_INTERVAL_SECONDS` (the first run one minute after
/// start, or one interval when that is shorter), each configured provider over the last `RECONCILE_LOOKBACK_HOURS`.
/// One instance at a time per provider (a transaction-scoped advisory lock held for the run; the others skip that round). Graceful shutdown
/// cancels a run in progress: what it applied is committed, the rest is found again by the next run.
struct ReconcileService: Service {
    let reconciler: Reconciler
    let providers: [ReconcileProvider]
    let interval: Duration
    let lookback: Duration
    let logger: Logger

    func run() async throws {
        guard interval > .zero, !providers.isEmpty else { return }
        try? await cancelWhenGracefulShutdown {
            try await Task.sleep(for: min(interval, .seconds(60)))
            while !Task.isCancelled {
                await round()
                try await Task.sleep(for: interval)
            }
        }
    }

    /// One run of every provider.
    func round() async {
        let since = reconciler.now().addingTimeInterval(-Double(lookback.components.seconds))
        for provider in providers {
            do {
                let report = try await reconciler.run(provider, since: since, dryRun: false, waitForLock: false)
                if !report.skipped {
                    logger.info(
                        "reconciliation run",
                        metadata: [
                            "provider": "\(provider.rawValue)", "seen": "\(report.seen)",
                            "recovered": "\(report.recovered)", "failed": "\(report.failed)",
                        ])
                }
            } catch is CancellationError {
                return
            } catch {
                if Task.isCancelled { return }
                logger.error("reconciliation run failed", metadata: ["provider": "\(provider.rawValue)", "error": "\(error)"])
            }
        }
    }
}

/// Plugs the periodic reconciliation into `serve` (no routes).
enum ReconcileModule: AppModule {
    static func addRoutes(to router: AppRouter, config: AppConfig, dependencies: AppDependencies) {}

    static func services(config: AppConfig, dependencies: AppDependencies) -> [any Service] {
        guard config.reconcileIntervalSeconds > 0 else { return [] }
        for provider in configuredProviders(config) {
            // The series exists (at 0) from the start, so TelebotReconcileStale sees a provider that never succeeds.
            _ = Gauge(
                label: "reconcile_last_success_timestamp_seconds", dimensions: [("provider", provider.rawValue)],
                factory: dependencies.metrics.factory)
        }
        return [
            ReconcileService(
                reconciler: Reconciler(config: config, dependencies: dependencies),
                providers: configuredProviders(config), interval: .seconds(config.reconcileIntervalSeconds),
                lookback: .seconds(Int64(config.reconcileLookbackHours) * 3600), logger: dependencies.logger)
        ]
    }

    /// Stripe only with `STRIPE_API_KEY`; Telegram Stars always (the bot token is required).
    static func configuredProviders(_ config: AppConfig) -> [ReconcileProvider] {
        config.stripeAPIKey == nil ? [.telegramStars] : [.stripe, .telegramStars]
    }
}
