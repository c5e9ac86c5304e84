import Foundation
import PGClient

/// Batched purges of rows the server no longer needs. Each function does one batch in the caller's transaction:
/// it picks at most `batch` rows by an index, then deletes (or updates) exactly those by `ctid` (a TID scan), so a
/// batch locks a few thousand rows for milliseconds and never the table.
public enum HousekeepingStore {
    /// The session advisory lock key that lets one server instance at a time run housekeeping.
    public static let lockKey: Int64 = 0x7465_6C65_686B_0001

    /// Shortest retention `telegram_updates` may have: Telegram redelivers an update for up to
    /// 24 h, and a purged `update_id` would be handled again.
    public static let minimumUpdateRetention: TimeInterval = 86_400

    /// Deletes `telegram_updates` rows received before `cutoff` (never later than 24 h ago).
    /// - Returns: rows deleted (fewer than `batch`: nothing older is left).
    public static func purgeTelegramUpdates(_ tx: PGConnection, before cutoff: Date, batch: Int, now: Date = Date()) async throws -> Int {
        let cutoff = min(cutoff, now.addingTimeInterval(-minimumUpdateRetention))
        return try await tx.execute(
            """
            DELETE FROM telegram_updates WHERE ctid = ANY (ARRAY(
                SELECT ctid FROM telegram_updates WHERE received_at < \(cutoff) LIMIT \(batch)))
            """)
    }

    /// Deletes Mini App sessions that expired before `cutoff` (their tokens fail on `exp` anyway).
    public static func purgeExpiredSessions(_ tx: PGConnection, before cutoff: Date, batch: Int) async throws -> Int {
        try await tx.execute(
            """
            DELETE FROM miniapp_sessions WHERE ctid = ANY (ARRAY(
                SELECT ctid FROM miniapp_sessions WHERE expires_at < \(cutoff) LIMIT \(batch)))
            """)
    }

    /// Deletes finished idempotency keys created before `cutoff`, and abandoned ones (never finished: the request
    /// died) created before `abandonedCutoff`.
    public static func purgeIdempotencyKeys(
        _ tx: PGConnection, finishedBefore cutoff: Date, abandonedBefore abandonedCutoff: Date, batch: Int
    ) async throws -> Int {
        try await tx.execute(
            """
            DELETE FROM idempotency_keys WHERE ctid = ANY (ARRAY(
                SELECT ctid FROM idempotency_keys
                WHERE (recovery_point = 'finished' AND created_at < \(cutoff))
                   OR created_at < \(abandonedCutoff)
                LIMIT \(batch)))
            """)
    }

    /// Drops the bodies (`payload`, `raw_body`) of processed or ignored payment events received before `cutoff`;
    /// the rows stay (ids, type, status, times), marked by `payload_purged_at`. Failed and dead events keep their
    /// bodies: an operator may still retry them.
    public static func purgePayloads(_ tx: PGConnection, before cutoff: Date, batch: Int) async throws -> Int {
        try await tx.execute(
            """
            UPDATE payment_events SET payload = NULL, raw_body = NULL, payload_purged_at = now()
            WHERE ctid = ANY (ARRAY(
                SELECT ctid FROM payment_events
                WHERE payload_purged_at IS NULL AND status IN ('processed', 'ignored') AND received_at < \(cutoff)
                LIMIT \(batch)))
            """)
    }
}
