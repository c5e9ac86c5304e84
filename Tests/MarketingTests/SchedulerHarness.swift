import Logging
import Marketing
import PGClient
import ServiceLifecycle

/// Runs services in a `ServiceGroup` and stops them gracefully, as `telebot serve` would.
struct SchedulerHarness {
    let group: ServiceGroup
    let task: Task<Void, any Error>

    static let quietLogger = Logger(label: "telebot.test.marketing", factory: { _ in SwiftLogNoOpLogHandler() })

    static func start(_ services: [any Service]) -> SchedulerHarness {
        let group = ServiceGroup(services: services, logger: quietLogger)
        return SchedulerHarness(group: group, task: Task { try await group.run() })
    }

    /// Triggers graceful shutdown and returns how long the services took to stop.
    @discardableResult
    func stop() async throws -> Duration {
        let started = ContinuousClock.now
        await group.triggerGracefulShutdown()
        try await task.value
        return ContinuousClock.now - started
    }
}

extension PromoScheduler {
    /// A scheduler on `pool` for tests.
    static func test(
        _ configuration: PromoSchedulerConfiguration, pool: PGPool, publisher: any PromoPublisher,
        metrics: MarketingMetrics = MarketingMetrics()
    ) -> PromoScheduler {
        PromoScheduler(
            configuration: configuration, pool: pool, publisher: publisher, metrics: metrics, logger: SchedulerHarness.quietLogger)
    }
}
