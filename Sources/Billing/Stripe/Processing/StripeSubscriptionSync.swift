import Foundation
import PGClient

/// `customer.subscription.*`: the subscription row is locked and only moved forward by events newer than its
/// `last_event_created` watermark, so an older event delivered late never overwrites newer state.
enum StripeSubscriptionSync {
    static func apply(_ tx: PGConnection, _ event: StripeEvent, _ subscription: StripeSubscription, eventRow: Int64) throws -> Bool {
        let object = "subscription \(subscription.id)"
        let userID = try StripeEventHandler.user(
            tx, metadataUser: subscription.userID, customer: subscription.customer, object: object)
        let plan = try StripeEventHandler.plan(tx, code: subscription.plan, priceIDs: subscription.priceIDs, object: object)
        let deleted = event.type == .customerSubscriptionDeleted
        let status = deleted ? "canceled" : subscription.status.rawValue
        let periodEnd = (subscription.currentPeriodEnd ?? subscription.items.compactMap(\.currentPeriodEnd).max())
            .map { Date(timeIntervalSince1970: TimeInterval($0)) }
        // Lock (creating if new) and read the watermark.
        let current = try tx.query(
            """
            INSERT INTO stripe_subscriptions AS s (subscription_id, user_id, customer_id, plan, status,
                current_period_end, cancel_at_period_end, last_event_created)
            VALUES (\(subscription.id), \(userID), \(subscription.customer), \(plan.code), \(status), \(periodEnd),
                \(subscription.cancelAtPeriodEnd), '-infinity')
            ON CONFLICT (subscription_id) DO UPDATE SET updated_at = s.updated_at
            RETURNING last_event_created, status
            """)
        let watermark = try current.first?.decode("last_event_created", as: Date.self) ?? .distantPast
        let currentStatus = try current.first?.decode("status", as: String.self)
        guard event.createdAt >= watermark else { return false }
        // Stripe's `created` has one-second resolution: on a tie, an ended subscription stays ended (a
        // `deleted` and an `updated` of the same second arrive in any order; the deletion is the later fact).
        if event.createdAt == watermark, let currentStatus, Self.isEnded(currentStatus), !Self.isEnded(status) {
            return false
        }
        try tx.execute(
            """
            UPDATE stripe_subscriptions SET status = \(status), plan = \(plan.code), current_period_end = \(periodEnd),
                cancel_at_period_end = \(subscription.cancelAtPeriodEnd), last_event_created = \(event.createdAt),
                updated_at = now()
            WHERE subscription_id = \(subscription.id)
            """)
        let cause = StripeEventHandler.cause(event, eventRow)
        switch status {
        case "canceled", "incomplete_expired":
            try EntitlementStore.setStatus(tx, userID: userID, plan: plan.code, status: .canceled, cause: cause)
        case "past_due", "unpaid":
            try EntitlementStore.setStatus(tx, userID: userID, plan: plan.code, status: .pastDue, cause: cause)
        case "active", "trialing":
            if let periodEnd {
                try EntitlementStore.grant(tx, userID: userID, plan: plan.code, until: periodEnd, source: .stripe, cause: cause)
            }
        default:
            break
        }
        return true
    }

    /// Statuses after which Stripe never moves a subscription again.
    static func isEnded(_ status: String) -> Bool { status == "canceled" || status == "incomplete_expired" }

    /// True when a subscription event newer than `eventCreated` already ended the subscription.
    static func endedAfter(_ tx: PGConnection, subscriptionID: String, eventCreated: Date) throws -> Bool {
        try tx.query(
            """
            SELECT 1 AS ended FROM stripe_subscriptions
            WHERE subscription_id = \(subscriptionID) AND status IN ('canceled', 'incomplete_expired')
              AND last_event_created > \(eventCreated)
            FOR SHARE
            """
        ).first != nil
    }
}
