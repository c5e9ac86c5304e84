import Foundation
import PGClient
import Support

/// Finds access that is about to end without renewing, or that has just ended, and queues one message for each:
/// "ending in 3 days" once per grant (the grant whose end is the access's end: a later purchase makes a new one),
/// "ended" once per (user, plan, end) — the same key as a Stripe subscription's deletion uses. Safe to run
/// concurrently and repeatedly: the outbox key decides, so each is queued once.
public enum AccessExpiryNotices {
    /// What one run queued.
    public struct Report: Sendable, Equatable {
        public var ending = 0
        public var ended = 0
        public init() {}
    }

    /// - Parameters:
    ///   - connection: any connection (each message is one INSERT; a transaction adds nothing).
    ///   - ahead: how far ahead "ending" looks (3 days).
    ///   - lookback: how far back "ended" looks, so a server that was down catches up without messaging about
    ///     access that ended long ago.
    ///   - limit: at most this many of each per run.
    public static func enqueueDue(
        _ connection: PGConnection, ahead: Duration = .seconds(3 * 86_400), lookback: Duration = .seconds(86_400),
        limit: Int = 500
    ) async throws -> Report {
        var report = Report()
        for row in try await endingSoon(connection, ahead: ahead, limit: limit) {
            let grantID = try row.decode("grant_id", as: Int64.self)
            let userID = try row.decode("user_id", as: Int64.self)
            let expiresAt = try row.decode("expires_at", as: Date.self)
            let notice = SubscriberMessages.accessEnding(plan: try row.decode("name", as: String.self), on: expiresAt)
            if try await NotificationOutbox.enqueue(connection, eventKey: "grant:\(grantID)", notice: notice, userID: userID) {
                report.ending += 1
            }
        }
        for row in try await endedRecently(connection, lookback: lookback, limit: limit) {
            let userID = try row.decode("user_id", as: Int64.self)
            let plan = try row.decode("plan", as: String.self)
            let expiresAt = try row.decode("expires_at", as: Date.self)
            let notice = SubscriberMessages.accessEnded(plan: try row.decode("name", as: String.self), on: expiresAt)
            let key = SubscriberNotices.accessEndedKey(userID: userID, plan: plan, endedAt: expiresAt)
            if try await NotificationOutbox.enqueue(connection, eventKey: key, notice: notice, userID: userID) {
                report.ended += 1
            }
        }
        return report
    }

    /// Access ending within `ahead` whose last grant renews through nothing: no subscription, or one that is
    /// cancelled at the period's end, ended, or (Stars) cancelled.
    static func endingSoon(_ connection: PGConnection, ahead: Duration, limit: Int) async throws -> [PGRow] {
        Array(
            try await connection.query(
                """
                SELECT g.id AS grant_id, e.user_id, e.expires_at, p.name
                FROM user_entitlements e
                JOIN plans p ON p.code = e.plan
                JOIN LATERAL (
                    SELECT id, subscription_ref FROM entitlement_grants
                    WHERE user_id = e.user_id AND plan = e.plan AND state = 'active' AND ends_at = e.expires_at
                    ORDER BY id DESC LIMIT 1) g ON true
                LEFT JOIN stripe_subscriptions s ON s.subscription_id = g.subscription_ref
                LEFT JOIN stars_subscriptions t ON t.first_charge_id = g.subscription_ref
                WHERE e.status IN ('active', 'past_due', 'canceled')
                  AND e.expires_at > now() AND e.expires_at <= now() + make_interval(secs => \(ahead.inSeconds))
                  AND NOT coalesce(s.ended_at IS NULL AND NOT s.cancel_at_period_end
                                   AND s.status NOT IN ('canceled', 'incomplete_expired'), false)
                  AND NOT coalesce(NOT t.canceled, false)
                  AND NOT EXISTS (SELECT 1 FROM notification_outbox o
                                  WHERE o.event_key = 'grant:' || g.id AND o.effect = 'access_ending')
                ORDER BY e.expires_at
                LIMIT \(limit)
                """))
    }

    /// Access that ended within `lookback` (by time or cut; a revoked one has had its refund or revoke message).
    static func endedRecently(_ connection: PGConnection, lookback: Duration, limit: Int) async throws -> [PGRow] {
        Array(
            try await connection.query(
                """
                SELECT e.user_id, e.plan, e.expires_at, p.name
                FROM user_entitlements e JOIN plans p ON p.code = e.plan
                WHERE e.status IN ('active', 'past_due', 'canceled')
                  AND e.expires_at <= now() AND e.expires_at > now() - make_interval(secs => \(lookback.inSeconds))
                  AND NOT EXISTS (SELECT 1 FROM notification_outbox o
                                  WHERE o.event_key = 'access:' || e.user_id || ':' || e.plan || ':'
                                        || floor(extract(epoch FROM e.expires_at))::bigint
                                    AND o.effect = 'access_ended')
                ORDER BY e.expires_at
                LIMIT \(limit)
                """))
    }
}
