import Billing
import Logging
import PGClient
import ServiceLifecycle

/// Sends `notification_outbox` messages (written by payment events in their own transactions) through the Bot
/// API. Messages are claimed with a lease (`FOR UPDATE SKIP LOCKED`), sent outside any transaction, then marked
/// sent; a failure is retried with backoff and given up (`dead`) after `maxAttempts`.
public struct NotificationSender: Service {
    let pool: PGPool
    let bot: BotAPIClient
    let interval: Duration
    let maxAttempts: Int
    let logger: Logger

    public init(pool: PGPool, bot: BotAPIClient, interval: Duration = .seconds(2), maxAttempts: Int = 5, logger: Logger) {
        self.pool = pool
        self.bot = bot
        self.interval = interval
        self.maxAttempts = maxAttempts
        self.logger = logger
    }

    public func run() async throws {
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                _ = await sendDue()
                try await Task.sleep(for: interval)
            }
        }
    }

    /// Sends what is due now; returns how many were sent.
    public func sendDue(limit: Int = 20) async -> Int {
        let claimed: [OutboxMessage]
        do {
            claimed = try await pool.withConnection { try NotificationOutbox.claim($0, limit: limit, lease: .seconds(60)) }
        } catch {
            logger.warning("outbox claim failed", metadata: ["error": "\(error)"])
            return 0
        }
        var sent = 0
        for message in claimed {
            do {
                _ = try await bot.sendMessage(SendMessageRequest(chatID: .id(message.telegramID), text: message.message), retry: BotAPIRetryPolicy.none)
                try await pool.withConnection { try NotificationOutbox.markSent($0, id: message.id) }
                sent += 1
            } catch {
                logger.warning("notification not sent", metadata: ["outbox_id": "\(message.id)", "error": "\(error)"])
                let maxAttempts = self.maxAttempts
                let backoff = Duration.seconds(min(3600, 5 << min(message.attempts, 10)))
                try? await pool.withConnection {
                    try NotificationOutbox.markFailed($0, id: message.id, error: "\(error)", retryIn: backoff, maxAttempts: maxAttempts)
                }
            }
        }
        return sent
    }
}
