import Logging
import PGClient
import ServiceLifecycle

/// Reprocesses failed Stripe events with exponential backoff until they succeed or go `dead`. Several instances
/// can run it at once: each event is locked with `FOR UPDATE SKIP LOCKED` while one of them works on it.
public struct StripeRetryWorker: Service {
    let processor: StripeWebhookProcessor
    let interval: Duration
    let logger: Logger

    public init(processor: StripeWebhookProcessor, interval: Duration = .seconds(5), logger: Logger) {
        self.processor = processor
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                await drain()
                try await Task.sleep(for: interval)
            }
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
