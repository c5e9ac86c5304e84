import Logging
import Metrics
import PGClient
import ServiceLifecycle

/// Reprocesses failed Stripe events with exponential backoff until they succeed or go `dead`. Several instances
/// can run it at once: each event is locked with `FOR UPDATE SKIP LOCKED` while one of them works on it.
/// After each round it refreshes `payment_events_dead{provider}` (see `DeadPaymentEventsGauge`).
public struct StripeRetryWorker: Service {
    let processor: StripeWebhookProcessor
    let interval: Duration
    let logger: Logger
    let deadEvents: DeadPaymentEventsGauge

    public init(
        processor: StripeWebhookProcessor, interval: Duration = .seconds(5), logger: Logger,
        metricsFactory: (any MetricsFactory)? = nil
    ) {
        self.processor = processor
        self.interval = interval
        self.logger = logger
        self.deadEvents = DeadPaymentEventsGauge(pool: processor.pool, metricsFactory: metricsFactory)
    }

    public func run() async throws {
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                await round()
                try await Task.sleep(for: interval)
            }
        }
    }

    /// One round: due retries, then the dead-events gauge.
    public func round() async {
        await drain()
        do {
            try await deadEvents.refresh()
        } catch {
            logger.warning("could not count dead payment events", metadata: ["error": "\(error)"])
        }
    }

    /// Works through every due event (bounded per round), then returns.
    public func drain(maxEvents: Int = 100) async {
        for _ in 0..<maxEvents {
            do {
                guard try await processor.retry() != nil else { return }
            } catch {
                logger.warning("Stripe retry round stopped", metadata: ["error": "\(error)"])
                return
            }
        }
    }
}
