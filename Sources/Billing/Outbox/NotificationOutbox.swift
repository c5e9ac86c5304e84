import Foundation
import PGClient

/// A message waiting in `notification_outbox`.
public struct OutboxMessage: Sendable, Equatable {
    public var id: Int64
    public var userID: Int64
    public var telegramID: Int64
    public var message: String
    public var attempts: Int
}

/// Messages to users caused by payment events, written in the event's own transaction and sent afterwards by a
/// sender (Telegram module). Keyed by (event, effect): reprocessing an event never queues a second message.
public enum NotificationOutbox {
    /// Queues a message; false when this (event, effect) was already queued.
    @discardableResult
    public static func enqueue(_ tx: PGConnection, eventKey: String, effect: String, userID: Int64, message: String)
        throws -> Bool
    {
        try tx.execute(
            """
            INSERT INTO notification_outbox (event_key, effect, user_id, message)
            VALUES (\(eventKey), \(effect), \(userID), \(String(message.prefix(4096))))
            ON CONFLICT (event_key, effect) DO NOTHING
            """) == 1
    }

    /// Claims up to `limit` due messages for `lease` (one statement, `FOR UPDATE SKIP LOCKED`, so several
    /// instances share the work). Send them outside any transaction, then settle each with `markSent` or
    /// `markFailed`. A sender that dies mid-way leaves its claims to expire and be retried after the lease.
    public static func claim(_ connection: PGConnection, limit: Int, lease: Duration) throws -> [OutboxMessage] {
        let leaseSeconds = Double(lease.components.seconds)
        return try connection.query(
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
            RETURNING o.id, o.user_id, u.telegram_user_id, o.message, o.attempts
            """
        ).map { row in
            OutboxMessage(
                id: try row.decode("id"), userID: try row.decode("user_id"),
                telegramID: try row.decode("telegram_user_id"), message: try row.decode("message"),
                attempts: try row.decode("attempts"))
        }
    }

    public static func markSent(_ connection: PGConnection, id: Int64) throws {
        try connection.execute(
            "UPDATE notification_outbox SET status = 'sent', sent_at = now() WHERE id = \(id) AND status = 'pending'")
    }

    /// Schedules another attempt, or gives up (`dead`) after `maxAttempts`.
    public static func markFailed(_ connection: PGConnection, id: Int64, error: String, retryIn: Duration, maxAttempts: Int)
        throws
    {
        let retrySeconds = retryIn.inSeconds
        try connection.execute(
            """
            UPDATE notification_outbox SET last_error = \(String(error.prefix(1000))),
                next_attempt_at = now() + make_interval(secs => \(retrySeconds)),
                status = CASE WHEN attempts >= \(maxAttempts) THEN 'dead' ELSE 'pending' END
            WHERE id = \(id) AND status = 'pending'

            """)
    }
}
