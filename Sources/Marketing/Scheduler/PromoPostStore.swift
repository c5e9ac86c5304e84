import Foundation
import PGClient

/// A `marketing_posts` row this instance holds for one send attempt (status `sending`, under a lease).
struct ClaimedPost: Sendable, Equatable {
    var id: Int64
    var slotStart: Date
    var promoID: Int64
    /// The attempt about to be made (1-based).
    var attempt: Int
}

/// The SQL of the scheduler. Every statement is one autocommitted unit, so nothing is held open across a send.
enum PromoPostStore {
    static let returning = "RETURNING id, slot_start, promo_id, attempts"

    /// Claims the current slot of the campaign, if nobody has and the campaign is not paused, with the promo the
    /// rotation picks (slot number modulo the number of active promos, in `position` order). The slot is computed
    /// from the database clock, so every instance agrees on it. nil: taken already, paused, or no active promo.
    static func claimSlot(_ connection: PGConnection, _ configuration: PromoSchedulerConfiguration) async throws -> ClaimedPost? {
        let campaign = configuration.campaign
        let intervalMs = configuration.intervalMilliseconds
        let leaseMs = configuration.sendLease.milliseconds
        let result = try await connection.query(
            """
            WITH slot AS (
                SELECT n, 'epoch'::timestamptz + n * \(intervalMs) * interval '1 millisecond' AS start
                FROM (SELECT floor(extract(epoch FROM clock_timestamp()) * 1000 / \(intervalMs))::bigint AS n) s
            ), promos AS (
                SELECT id, row_number() OVER (ORDER BY position, id) - 1 AS idx, count(*) OVER () AS total
                FROM marketing_promos WHERE campaign = \(campaign) AND active
            )
            INSERT INTO marketing_posts
                (campaign, slot_start, promo_id, status, attempts, lease_expires_at, claimed_by, claimed_at)
            SELECT \(campaign), slot.start, promos.id, 'sending', 1,
                   now() + \(leaseMs) * interval '1 millisecond', \(configuration.instanceID), now()
            FROM slot JOIN promos ON promos.idx = slot.n % promos.total
            WHERE NOT EXISTS (SELECT 1 FROM marketing_scheduler_state WHERE campaign = \(campaign) AND paused)
            ON CONFLICT (campaign, slot_start) DO NOTHING
            \(unsafeRaw: returning)
            """)
        return try result.first.map(decode)
    }

    /// Takes one post whose retry is due (oldest first), unless paused. `SKIP LOCKED`: two instances never take
    /// the same post, and neither waits for the other.
    static func claimRetry(_ connection: PGConnection, _ configuration: PromoSchedulerConfiguration) async throws -> ClaimedPost? {
        let campaign = configuration.campaign
        let result = try await connection.query(
            """
            UPDATE marketing_posts
            SET status = 'sending', attempts = attempts + 1, next_attempt_at = NULL,
                lease_expires_at = now() + \(configuration.sendLease.milliseconds) * interval '1 millisecond',
                claimed_by = \(configuration.instanceID), updated_at = now()
            WHERE id = (
                SELECT id FROM marketing_posts
                WHERE campaign = \(campaign) AND status = 'claimed' AND next_attempt_at <= now()
                  AND slot_start + \(configuration.retryWindowMilliseconds) * interval '1 millisecond' > now()
                  AND NOT EXISTS (SELECT 1 FROM marketing_scheduler_state WHERE campaign = \(campaign) AND paused)
                ORDER BY next_attempt_at
                LIMIT 1
                FOR UPDATE SKIP LOCKED
            )
            \(unsafeRaw: returning)
            """)
        return try result.first.map(decode)
    }

    /// Fails posts nobody can finish: sends whose lease ran out (the sender died or hung: the outcome is unknown,
    /// so the slot is not posted again) and retries whose window has passed. Returns how many of each.
    static func expire(_ connection: PGConnection, _ configuration: PromoSchedulerConfiguration) async throws
        -> (abandoned: Int, expired: Int)
    {
        let campaign = configuration.campaign
        let abandoned = try await connection.execute(
            """
            UPDATE marketing_posts
            SET status = 'failed', updated_at = now(),
                last_error = 'send outcome unknown: the sending instance did not record a result before its lease ran out'
            WHERE campaign = \(campaign) AND status = 'sending' AND lease_expires_at < now()
            """)
        let expired = try await connection.execute(
            """
            UPDATE marketing_posts
            SET status = 'failed', updated_at = now(),
                last_error = left('retry window passed; last error: ' || coalesce(last_error, 'none'), 1000)
            WHERE campaign = \(campaign) AND status = 'claimed'
              AND slot_start + \(configuration.retryWindowMilliseconds) * interval '1 millisecond' <= now()
            """)
        return (abandoned, expired)
    }

    /// Records a successful send. Unconditional: the message exists, whatever another instance concluded.
    static func markSent(_ connection: PGConnection, postID: Int64, messageID: Int64) async throws {
        try await connection.execute(
            """
            UPDATE marketing_posts
            SET status = 'sent', telegram_message_id = \(messageID), sent_at = now(), lease_expires_at = NULL,
                next_attempt_at = NULL, updated_at = now()
            WHERE id = \(postID)
            """)
    }

    /// Schedules another attempt after a refused one, if this instance still holds the attempt.
    @discardableResult
    static func markRetry(
        _ connection: PGConnection, post: ClaimedPost, instanceID: String, delay: Duration, error: String
    ) async throws -> Bool {
        try await connection.execute(
            """
            UPDATE marketing_posts
            SET status = 'claimed', next_attempt_at = now() + \(delay.milliseconds) * interval '1 millisecond',
                lease_expires_at = NULL, last_error = left(\(error), 1000), updated_at = now()
            WHERE id = \(post.id) AND status = 'sending' AND attempts = \(post.attempt) AND claimed_by = \(instanceID)
            """) == 1
    }

    /// Gives the slot up, if this instance still holds the attempt.
    @discardableResult
    static func markFailed(_ connection: PGConnection, post: ClaimedPost, instanceID: String, error: String) async throws -> Bool {
        try await connection.execute(
            """
            UPDATE marketing_posts
            SET status = 'failed', lease_expires_at = NULL, last_error = left(\(error), 1000), updated_at = now()
            WHERE id = \(post.id) AND status = 'sending' AND attempts = \(post.attempt) AND claimed_by = \(instanceID)
            """) == 1
    }

    /// Time until the campaign's earliest scheduled retry (zero when overdue), or nil when none is scheduled.
    static func timeUntilNextRetry(_ connection: PGConnection, campaign: String) async throws -> Duration? {
        let result = try await connection.query(
            """
            SELECT (extract(epoch FROM min(next_attempt_at) - now()) * 1000)::bigint AS ms
            FROM marketing_posts WHERE campaign = \(campaign) AND status = 'claimed'
            """)
        guard let ms = try result.first?.decode("ms", as: Int64?.self) else { return nil }
        return .milliseconds(max(0, ms))
    }

    /// The promo with this id.
    static func promo(_ connection: PGConnection, id: Int64) async throws -> Promo? {
        guard
            let row = try await connection.query(
                "SELECT id, campaign, position, text, buttons FROM marketing_promos WHERE id = \(id)"
            ).first
        else { return nil }
        let campaign = try row.decode("campaign", as: String.self)
        let stored = (try? row.decode("buttons", as: PGJSON<[[StoredPromoButton]]>.self).value) ?? []
        let buttons = stored.map { $0.compactMap { $0.button(campaign: campaign) } }.filter { !$0.isEmpty }
        return Promo(
            id: try row.decode("id"), campaign: campaign, position: try row.decode("position"),
            text: try row.decode("text"), buttons: buttons)
    }

    static func decode(_ row: PGRow) throws -> ClaimedPost {
        ClaimedPost(
            id: try row.decode("id"), slotStart: try row.decode("slot_start"), promoID: try row.decode("promo_id"),
            attempt: try row.decode("attempts"))
    }
}
