import Foundation
import PGClient
import Support

/// A message waiting in `notification_outbox`.
public struct OutboxMessage: Sendable, Equatable {
    public var id: Int64
    public var userID: Int64
    public var telegramID: Int64
    public var message: String
    public var attempts: Int
    /// Unknown values (a newer server's rows) read as `.notice`.
    public var kind: NoticeKind
    public var button: NoticeButton
}

/// Messages to users caused by payment events, written in the event's own transaction and sent afterwards by a
/// sender (Telegram module). Keyed by (event, effect): reprocessing an event never queues a second message.
///
/// Delivery is at least once: a message is marked sent after Telegram accepted it, so a sender that dies between
/// the two sends it again after its lease. The key keeps duplicates to that window.
public enum NotificationOutbox {
    /// Queues a message; false when this (event, kind) was already queued.
    /// - Parameters:
    ///   - tx: the transaction that applies the event the message is about.
    ///   - eventKey: what happened, stable across redeliveries (`stripe:invoice:in_…`, `stars:<charge>`, …).
    ///   - notice: the message (its kind is the key's effect).
    ///   - userID: the recipient.
    @discardableResult
    public static func enqueue(_ tx: PGConnection, eventKey: String, notice: SubscriberNotice, userID: Int64) async throws
        -> Bool
    {
        try await tx.execute(insertQuery(eventKey: eventKey, notice: notice, userID: userID)) == 1
    }

    /// Queues a message like `enqueue`, without waiting to learn whether it was new: the statement goes out with the
    /// transaction's next one or its COMMIT (`executeLater`). For the payment paths, where it is the last write.
    public static func enqueueLater(_ tx: PGConnection, eventKey: String, notice: SubscriberNotice, userID: Int64)
        async throws
    {
        try await tx.executeLater(insertQuery(eventKey: eventKey, notice: notice, userID: userID))
    }

    static func insertQuery(eventKey: String, notice: SubscriberNotice, userID: Int64) -> PGQuery {
        """
        INSERT INTO notification_outbox (event_key, effect, user_id, message, kind, button)
        VALUES (\(eventKey), \(notice.kind.rawValue), \(userID), \(String(notice.text.prefix(4096))),
                \(notice.kind.rawValue), \(notice.button.rawValue))
        ON CONFLICT (event_key, effect) DO NOTHING
        """
    }

    /// Claims up to `limit` due messages for `lease` (one statement, `FOR UPDATE SKIP LOCKED`, so several
    /// instances share the work). Send them outside any transaction, then settle each with `markSent`,
    /// `markFailed` or `markBlocked`. A sender that dies mid-way leaves its claims to expire and be retried after
    /// the lease.
    public static func claim(_ connection: PGConnection, limit: Int, lease: Duration) async throws -> [OutboxMessage] {
        let leaseSeconds = Double(lease.components.seconds)
        return try await connection.query(
            """
            WITH picked AS (
                SELECT id FROM notification_outbox
                WHERE status = 'pending' AND next_attempt_at <= now()
                ORDER BY next_attempt_at, id
                LIMIT \(limit)
                FOR UPDATE SKIP LOCKED
            )
            UPDATE notification_outbox o
            SET next_attempt_at = now() + make_interval(secs => \(leaseSeconds)), attempts = o.attempts + 1
            FROM picked, users u
            WHERE o.id = picked.id AND u.id = o.user_id
            RETURNING o.id, o.user_id, u.telegram_user_id, o.message, o.attempts, o.kind, o.button
            """
        ).map { row in
            OutboxMessage(
                id: try row.decode("id"), userID: try row.decode("user_id"),
                telegramID: try row.decode("telegram_user_id"), message: try row.decode("message"),
                attempts: try row.decode("attempts"),
                kind: NoticeKind(rawValue: try row.decode("kind", as: String.self)) ?? .notice,
                button: NoticeButton(rawValue: try row.decode("button", as: String.self)) ?? .webApp)
        }
    }

    /// Marks a message sent; a user who receives messages again is no longer marked as having blocked the bot.
    public static func markSent(_ connection: PGConnection, id: Int64) async throws {
        try await connection.execute(
            """
            WITH sent AS (
                UPDATE notification_outbox SET status = 'sent', sent_at = now()
                WHERE id = \(id) AND status = 'pending'
                RETURNING user_id)
            UPDATE users SET bot_blocked_at = NULL
            WHERE id = (SELECT user_id FROM sent) AND bot_blocked_at IS NOT NULL
            """)
    }

    /// Schedules another attempt, or gives up (`dead`) after `maxAttempts`.
    public static func markFailed(_ connection: PGConnection, id: Int64, error: String, retryIn: Duration, maxAttempts: Int)
        async throws
    {
        let retrySeconds = retryIn.inSeconds
        try await connection.execute(
            """
            UPDATE notification_outbox SET last_error = \(String(error.prefix(1000))),
                next_attempt_at = now() + make_interval(secs => \(retrySeconds)),
                status = CASE WHEN attempts >= \(maxAttempts) THEN 'dead' ELSE 'pending' END
            WHERE id = \(id) AND status = 'pending'
            """)
    }

    /// The recipient blocked the bot (Telegram answered 403): the message is set aside (`blocked`, never retried)
    /// and the user is marked (`users.bot_blocked_at`).
    public static func markBlocked(_ connection: PGConnection, id: Int64, error: String) async throws {
        try await connection.execute(
            """
            WITH blocked AS (
                UPDATE notification_outbox SET status = 'blocked', last_error = \(String(error.prefix(1000)))
                WHERE id = \(id) AND status = 'pending'
                RETURNING user_id)
            UPDATE users SET bot_blocked_at = coalesce(bot_blocked_at, now())
            WHERE id = (SELECT user_id FROM blocked)
            """)
    }
}
