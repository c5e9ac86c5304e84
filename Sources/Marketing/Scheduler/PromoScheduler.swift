import Foundation
import Logging
import PGClient
import ServiceLifecycle

/// Posts the campaign's next promo to the channel once per slot, across any number of server instances.
///
/// Every tick (at each slot boundary, and at least every `pollInterval`) an instance:
/// 1. fails posts nobody can finish (expired send leases, retries past their window);
/// 2. claims the current slot with `INSERT … ON CONFLICT (campaign, slot_start) DO NOTHING RETURNING`: only the
///    instance whose insert returned a row sends it, so each slot is claimed exactly once;
/// 3. takes due retries with `FOR UPDATE SKIP LOCKED`, so two instances never retry the same post at once.
/// Claims and retries check the campaign's pause switch (`marketing_scheduler_state`) in the same statement.
///
/// **Delivery is at most once.** A claim or retry is committed as status `sending` (with a lease) before
/// Telegram is called, and a post is sent again only when Telegram *answered* that it did not post it (429 with
/// `retry_after`, 5xx): then it is retried with exponential backoff (`retry_after` honoured) up to `maxAttempts`.
/// When the outcome is unknown (timeout, dropped connection, or this process dying between Telegram's answer and
/// recording it) the post is never repeated: the lease runs out and the slot is marked `failed`. Without an
/// idempotency key in `sendMessage`, "never posted twice" and "never missed" cannot both hold; a missed promo costs
/// less than a duplicate in a channel. A send that succeeded is recorded as `sent` with its message id even if
/// another instance had meanwhile given the slot up.
///
/// Graceful shutdown ends the sleep between ticks at once; a send in progress is allowed to finish and be recorded.
public struct PromoScheduler: Service {
    public let configuration: PromoSchedulerConfiguration
    let pool: PGPool
    let publisher: any PromoPublisher
    let metrics: MarketingMetrics
    let logger: Logger

    /// Retries at most this many due posts per tick, so a backlog cannot starve the current slot.
    static let maxRetriesPerTick = 10

    /// - Parameters:
    ///   - configuration: channel, campaign, interval, retry limits.
    ///   - pool: the database (shared with every other instance's scheduler).
    ///   - publisher: sends the posts (`BotAPIPromoPublisher` in production).
    ///   - metrics: counts `marketing_posts_total`.
    ///   - logger: claims, posts and failures.
    public init(
        configuration: PromoSchedulerConfiguration, pool: PGPool, publisher: any PromoPublisher,
        metrics: MarketingMetrics = MarketingMetrics(), logger: Logger = Logger(label: "telebot.marketing.scheduler")
    ) {
        self.configuration = configuration
        self.pool = pool
        self.publisher = publisher
        self.metrics = metrics
        self.logger = logger
    }

    public func run() async throws {
        let signal = ShutdownSignal()
        logger.info(
            "promo scheduler started",
            metadata: ["campaign": "\(configuration.campaign)", "interval": "\(configuration.interval)"])
        await withGracefulShutdownHandler {
            while !signal.isTriggered, !Task.isCancelled {
                let nextRetry = await tick()
                await signal.sleep(for: sleepDuration(nextRetry: nextRetry))
            }
        } onGracefulShutdown: {
            signal.trigger()
        }
        logger.info("promo scheduler stopped", metadata: ["campaign": "\(configuration.campaign)"])
    }

    /// One round: expire, claim the slot and send it, send due retries. Returns the time until the next scheduled
    /// retry. Errors are logged, never thrown: the next tick tries again.
    func tick() async -> Duration? {
        let configuration = self.configuration
        do {
            let expired = try await pool.withConnection { try await PromoPostStore.expire($0, configuration) }
            if expired.abandoned > 0 {
                logger.warning(
                    "promo sends abandoned with unknown outcome; not posting them again",
                    metadata: ["count": "\(expired.abandoned)"])
            }
            if expired.expired > 0 {
                logger.warning("promo retries gave up: slot window passed", metadata: ["count": "\(expired.expired)"])
            }
            if let post = try await pool.withConnection({ try await PromoPostStore.claimSlot($0, configuration) }) {
                logger.info("promo slot claimed", metadata: ["post_id": "\(post.id)", "slot": "\(post.slotStart)"])
                await send(post)
            }
            for _ in 0..<Self.maxRetriesPerTick {
                guard let post = try await pool.withConnection({ try await PromoPostStore.claimRetry($0, configuration) })
                else { break }
                await send(post)
            }
            return try await pool.withConnection {
                try await PromoPostStore.timeUntilNextRetry($0, campaign: configuration.campaign)
            }
        } catch {
            logger.warning("promo scheduler tick failed", metadata: ["error": "\(error)"])
            return nil
        }
    }

    /// Until the next slot boundary (by the local clock, plus a little for clock skew), the next retry, or the
    /// poll interval, whichever is first.
    func sleepDuration(nextRetry: Duration?) -> Duration {
        let intervalMs = configuration.intervalMilliseconds
        let nowMs = Int64((Date().timeIntervalSince1970 * 1000).rounded(.down))
        let untilBoundary = Duration.milliseconds(intervalMs - nowMs % intervalMs + 20)
        var sleep = min(untilBoundary, configuration.pollInterval)
        if let nextRetry { sleep = min(sleep, nextRetry + .milliseconds(5)) }
        return max(sleep, .milliseconds(5))
    }
}
