import Billing
import Foundation
import Logging
import ServiceLifecycle

/// The periodic housekeeping inside `serve`: a round every `HOUSEKEEPING_INTERVAL_SECONDS` (the first five minutes
/// after start, or one interval when that is shorter), one instance at a time (see `Housekeeper`). Graceful
/// shutdown stops a round between batches: what was purged is committed, the rest waits for the next round.
struct HousekeepingService: Service {
    let housekeeper: Housekeeper
    let interval: Duration
    let logger: Logger

    func run() async throws {
        guard interval > .zero else { return }
        let stop = Housekeeper.StopFlag()
        try? await withGracefulShutdownHandler {
            try await cancelWhenGracefulShutdown {
                try await Task.sleep(for: min(interval, .seconds(300)))
                while !Task.isCancelled {
                    await round(stop: stop)
                    try await Task.sleep(for: interval)
                }
            }
        } onGracefulShutdown: {
            stop.set()
        }
    }

    func round(stop: Housekeeper.StopFlag) async {
        do {
            let report = try await housekeeper.round(stop: stop)
            guard !report.skipped else {
                logger.debug("housekeeping skipped: another instance holds the lock")
                return
            }
            logger.info(
                "housekeeping round",
                metadata: [
                    "telegram_updates": "\(report.telegramUpdates)", "sessions": "\(report.sessions)",
                    "idempotency_keys": "\(report.idempotencyKeys)", "payloads": "\(report.payloads)",
                    "batches": "\(report.batches)",
                ])
        } catch {
            if Task.isCancelled || stop.isSet { return }
            logger.error("housekeeping round failed", metadata: ["error": "\(error)"])
        }
    }
}

/// Plugs housekeeping into `serve` (no routes).
enum HousekeepingModule: AppModule {
    static func addRoutes(to router: AppRouter, config: AppConfig, dependencies: AppDependencies) {}

    static func services(config: AppConfig, dependencies: AppDependencies) -> [any Service] {
        guard config.housekeepingIntervalSeconds > 0 else { return [] }
        return [
            HousekeepingService(
                housekeeper: housekeeper(config: config, dependencies: dependencies),
                interval: .seconds(config.housekeepingIntervalSeconds), logger: dependencies.logger)
        ]
    }

    static func housekeeper(config: AppConfig, dependencies: AppDependencies) -> Housekeeper {
        Housekeeper(
            pool: dependencies.pool, updatesRetention: TimeInterval(config.telegramUpdatesRetentionDays) * 86_400,
            payloadRetention: TimeInterval(config.payloadRetentionDays) * 86_400)
    }
}
