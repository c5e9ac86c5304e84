import Foundation
import PGClient

/// A user's recurring subscription to a plan at one provider, as far as renewal goes.
public struct RenewingSubscription: Sendable, Equatable {
    public enum Provider: String, Sendable {
        case stripe
        case telegramStars = "telegram_stars"
    }

    public var provider: Provider
    /// Stripe's `sub_…`, or the Stars subscription's first charge id.
    public var id: String
    public var userID: Int64
    public var telegramUserID: Int64
    public var plan: String
    /// False once a cancellation at the period's end is scheduled.
    public var renews: Bool
}

/// Reads and records the renewal state of recurring subscriptions (`stripe_subscriptions.cancel_at_period_end`,
/// `stars_subscriptions.canceled`).
public enum RenewingSubscriptions {
    /// The user's live subscriptions to `plan` (at most one per provider: the latest), renewing or not.
    public static func find(_ connection: PGConnection, userID: Int64, plan: String) async throws -> [RenewingSubscription] {
        var found: [RenewingSubscription] = []
        if let row = try await connection.query(
            """
            SELECT s.subscription_id, s.cancel_at_period_end, u.telegram_user_id
            FROM stripe_subscriptions s JOIN users u ON u.id = s.user_id
            WHERE s.user_id = \(userID) AND s.plan = \(plan) AND s.ended_at IS NULL
              AND s.status NOT IN ('canceled', 'incomplete_expired', 'incomplete')
            ORDER BY s.current_period_end DESC NULLS LAST, s.created_at DESC
            LIMIT 1
            """
        ).first {
            found.append(
                RenewingSubscription(
                    provider: .stripe, id: try row.decode("subscription_id"), userID: userID,
                    telegramUserID: try row.decode("telegram_user_id"), plan: plan,
                    renews: !(try row.decode("cancel_at_period_end", as: Bool.self))))
        }
        if let row = try await connection.query(
            """
            SELECT s.first_charge_id, s.canceled, u.telegram_user_id
            FROM stars_subscriptions s JOIN users u ON u.id = s.user_id
            WHERE s.user_id = \(userID) AND s.plan = \(plan) AND s.expires_at > now()
              AND NOT EXISTS (SELECT 1 FROM payment_refunds r WHERE r.ref = 'stars:' || s.first_charge_id)
            ORDER BY s.expires_at DESC
            LIMIT 1
            """
        ).first {
            found.append(
                RenewingSubscription(
                    provider: .telegramStars, id: try row.decode("first_charge_id"), userID: userID,
                    telegramUserID: try row.decode("telegram_user_id"), plan: plan,
                    renews: !(try row.decode("canceled", as: Bool.self))))
        }
        return found
    }

    /// Whether the user's access to `plan` from `source` renews: a live subscription there with no cancellation
    /// scheduled. Access from an admin grant or a one-time payment does not renew.
    public static func renews(_ connection: PGConnection, userID: Int64, plan: String, source: EntitlementSource) async throws
        -> Bool
    {
        let provider: RenewingSubscription.Provider
        switch source {
        case .stripe: provider = .stripe
        case .telegramStars: provider = .telegramStars
        case .admin: return false
        }
        return try await find(connection, userID: userID, plan: plan).contains { $0.provider == provider && $0.renews }
    }

    /// Records a renewal change the provider has confirmed. A cancellation (renewing before, not now) also queues the
    /// "subscription cancelled" message, under the key the Stripe webhook uses too, so the user gets one; call it
    /// inside a transaction so the two commit together.
    public static func record(_ connection: PGConnection, _ subscription: RenewingSubscription, renews: Bool) async throws {
        let rows: PGResult
        switch subscription.provider {
        case .stripe:
            rows = try await connection.query(
                """
                UPDATE stripe_subscriptions s SET cancel_at_period_end = \(!renews), updated_at = now()
                FROM (SELECT subscription_id, cancel_at_period_end FROM stripe_subscriptions
                      WHERE subscription_id = \(subscription.id) FOR UPDATE) before
                WHERE s.subscription_id = before.subscription_id
                RETURNING NOT before.cancel_at_period_end AS was_renewing, s.current_period_end AS period_end
                """)
        case .telegramStars:
            rows = try await connection.query(
                """
                UPDATE stars_subscriptions s SET canceled = \(!renews), updated_at = now()
                FROM (SELECT first_charge_id, canceled FROM stars_subscriptions
                      WHERE first_charge_id = \(subscription.id) FOR UPDATE) before
                WHERE s.first_charge_id = before.first_charge_id
                RETURNING NOT before.canceled AS was_renewing, s.expires_at AS period_end
                """)
        }
        guard !renews, let row = rows.first, try row.decode("was_renewing", as: Bool.self) else { return }
        let periodEnd = try row.decode("period_end", as: Date?.self)
        let name = try await SubscriberNotices.planName(connection, code: subscription.plan)
        try await NotificationOutbox.enqueue(
            connection,
            eventKey: SubscriberNotices.cancellationKey(
                provider: subscription.provider == .stripe ? "stripe" : "stars", subscriptionID: subscription.id,
                periodEnd: periodEnd),
            notice: SubscriberMessages.subscriptionCancelled(plan: name, accessUntil: periodEnd),
            userID: subscription.userID)
    }

    /// Sets `stars_subscriptions.canceled` of the subscription whose first charge is `firstChargeID`.
    public static func markStarsCanceled(_ connection: PGConnection, firstChargeID: String, canceled: Bool) async throws {
        try await connection.execute(
            """
            UPDATE stars_subscriptions SET canceled = \(canceled), updated_at = now()
            WHERE first_charge_id = \(firstChargeID)
            """)
    }

    /// The Stars subscription a charge belongs to (its first charge, or a renewal's grant), with the buyer's
    /// Telegram id and whether it is already canceled; nil for a one-time payment.
    public static func starsSubscription(_ connection: PGConnection, chargeID: String) async throws
        -> (firstChargeID: String, telegramUserID: Int64, canceled: Bool)?
    {
        try await connection.query(
            """
            SELECT s.first_charge_id, s.canceled, u.telegram_user_id
            FROM stars_subscriptions s JOIN users u ON u.id = s.user_id
            WHERE s.first_charge_id = \(chargeID)
               OR s.first_charge_id = (SELECT g.subscription_ref FROM entitlement_grants g
                                       WHERE g.payment_key = 'stars:' || \(chargeID))
            LIMIT 1
            """
        ).first.map { row in
            (try row.decode("first_charge_id"), try row.decode("telegram_user_id"), try row.decode("canceled"))
        }
    }
}
