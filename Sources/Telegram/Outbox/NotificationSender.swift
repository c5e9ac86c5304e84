import Billing
import Logging
import PGClient
import ServiceLifecycle

/// Sends `notification_outbox` messages (written by payment events in their own transactions) through the Bot
/// API. Messages are claimed with a lease (`FOR UPDATE SKIP LOCKED`), sent outside any transaction, then marked
/// sent; a failure is retried with exponential backoff and given up (`dead`) after `maxAttempts`. A 403 (the user
/// blocked the bot) is not retried: the message is set aside as `blocked` and the user marked.
///
/// Delivery is at least once: a sender that stops after Telegram accepted a message but before `markSent`
/// committed sends it again when the lease runs out. The outbox key (event, kind) keeps duplicates to that window.
public struct NotificationSender: Service {
    /// Makes a Stripe billing portal URL for a user (nil: the user has no Stripe customer).
    public typealias PortalLink = @Sendable (_ userID: Int64) async throws -> String?

    let pool: PGPool
    let bot: BotAPIClient
    let interval: Duration
    let maxAttempts: Int
    let logger: Logger
    let buttons: NotificationButtons
    let metrics: NotificationMetrics
    /// Backoff after the n-th failed attempt: `retryBase` × 2^(n-1), at most an hour.
    let retryBase: Duration

    /// - Parameters:
    ///   - miniAppURL: the Mini App's billing page (`web_app` buttons); nil: those messages go without a button.
    ///   - portalLink: makes the portal URL of a failed payment's button; nil or no customer: the Mini App button.
    public init(
        pool: PGPool, bot: BotAPIClient, interval: Duration = .seconds(2), maxAttempts: Int = 5,
        retryBase: Duration = .seconds(10), miniAppURL: String? = nil, portalLink: PortalLink? = nil,
        metrics: NotificationMetrics = NotificationMetrics(), logger: Logger
    ) {
        self.pool = pool
        self.bot = bot
        self.interval = interval
        self.maxAttempts = maxAttempts
        self.retryBase = retryBase
        self.buttons = NotificationButtons(miniAppURL: miniAppURL, portalLink: portalLink)
        self.metrics = metrics
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
            claimed = try await pool.withConnection { try await NotificationOutbox.claim($0, limit: limit, lease: .seconds(60)) }
        } catch {
            logger.warning("outbox claim failed", metadata: ["error": "\(error)"])
            return 0
        }
        var sent = 0
        for message in claimed where await send(message) { sent += 1 }
        return sent
    }

    /// One attempt at one message, settled in the outbox. - Returns: whether Telegram accepted it.
    private func send(_ message: OutboxMessage) async -> Bool {
        let metadata: Logger.Metadata = ["outbox_id": "\(message.id)", "kind": "\(message.kind.rawValue)"]
        do {
            let markup = try await buttons.markup(for: message)
            _ = try await bot.sendMessage(
                SendMessageRequest(chatID: .id(message.telegramID), text: message.message, replyMarkup: markup),
                retry: BotAPIRetryPolicy.none)
        } catch {
            metrics.record(kind: message.kind, sent: false)
            await settleFailure(message, error: error, metadata: metadata)
            return false
        }
        metrics.record(kind: message.kind, sent: true)
        do {
            try await pool.withConnection { try await NotificationOutbox.markSent($0, id: message.id) }
        } catch {
            // Sent, but not marked: sent again after the lease (at least once).
            logger.warning("notification sent but not marked sent", metadata: metadata.merging(["error": "\(error)"]) { $1 })
        }
        return true
    }

    private func settleFailure(_ message: OutboxMessage, error: any Error, metadata: Logger.Metadata) async {
        let blocked = (error as? BotAPIError).map(Self.isBlocked) ?? false
        let maxAttempts = self.maxAttempts
        let backoff = Self.backoff(base: retryBase, attempts: message.attempts)
        if blocked {
            logger.notice("user blocked the bot; message set aside", metadata: metadata)
        } else {
            logger.warning("notification not sent", metadata: metadata.merging(["error": "\(error)"]) { $1 })
        }
        do {
            try await pool.withConnection { connection in
                if blocked {
                    try await NotificationOutbox.markBlocked(connection, id: message.id, error: "\(error)")
                } else {
                    try await NotificationOutbox.markFailed(
                        connection, id: message.id, error: "\(error)", retryIn: backoff, maxAttempts: maxAttempts)
                }
            }
        } catch {
            logger.warning("could not record a failed notification", metadata: metadata.merging(["error": "\(error)"]) { $1 })
        }
    }

    /// Telegram's 403: the bot was blocked, the user is deactivated, or the bot cannot write to them.
    static func isBlocked(_ error: BotAPIError) -> Bool {
        error.kind == .api && error.errorCode == 403
    }

    /// `base` × 2^(attempts-1), capped at an hour.
    static func backoff(base: Duration, attempts: Int) -> Duration {
        let factor = 1 << min(max(attempts - 1, 0), 12)
        return min(base * factor, .seconds(3600))
    }
}
