import Foundation
import PGClient

/// `customer.subscription.*`: the subscription row is locked and only moved forward by events newer than its
/// `last_event_created` watermark, so an older event delivered late never overwrites newer state.
///
/// Subscription events grant nothing by themselves (payments do); they end or move access:
/// - an ended subscription (deleted, or a status Stripe never leaves) cuts its grants where it ended — final,
///   whatever order its events arrive in;
/// - a move to another price (a plan switch in the portal) cuts the old plan's grants of the subscription at the
///   change and gives the new plan the rest of the current period.
enum StripeSubscriptionSync {
    static func apply(_ tx: PGConnection, _ context: StripeEventHandler.Context, _ subscription: StripeSubscription) async throws
        -> StripeEffect
    {
        let event = context.event
        let object = "subscription \(subscription.id)"
        let userID = try await StripeEventHandler.user(
            tx, metadataUser: subscription.userID, customer: subscription.customer, object: object)
        let plan = try await StripeEventHandler.plan(
            tx, code: subscription.plan, priceIDs: subscription.priceIDs, object: object,
            prefetched: context.prefetchedPlan)
        let ended = event.type == .customerSubscriptionDeleted || isEnded(subscription.status.rawValue)
        let status = event.type == .customerSubscriptionDeleted ? "canceled" : subscription.status.rawValue
        let periodEnd = (subscription.currentPeriodEnd ?? subscription.items.compactMap(\.currentPeriodEnd).max())
            .map(StripeEventHandler.date)
        // Lock (creating if new) and read the watermark and the plan it was on.
        let current = try await tx.query(
            """
            INSERT INTO stripe_subscriptions AS s (subscription_id, user_id, customer_id, plan, status,
                current_period_end, cancel_at_period_end, last_event_created)
            VALUES (\(subscription.id), \(userID), \(subscription.customer), \(plan.code), \(status), \(periodEnd),
                \(subscription.cancelAtPeriodEnd), '-infinity')
            ON CONFLICT (subscription_id) DO UPDATE SET updated_at = s.updated_at
            RETURNING last_event_created, status, plan, cancel_at_period_end, (xmax = 0) AS inserted
            """)
        guard let row = current.first else { return .none }
        let watermark = try row.decode("last_event_created", as: Date.self)
        let currentStatus = try row.decode("status", as: String.self)
        let currentPlan = try row.decode("plan", as: String?.self)
        let inserted = try row.decode("inserted", as: Bool.self)
        // A new row already holds this event's value: nothing was scheduled before it.
        let wasCancelling = try !inserted && row.decode("cancel_at_period_end", as: Bool.self)
        var changed = false
        if event.type == .customerSubscriptionTrialWillEnd, let trialEnd = subscription.trialEnd, !ended {
            let ends = StripeEventHandler.date(trialEnd)
            try await NotificationOutbox.enqueue(
                tx, eventKey: "stripe:trial:\(subscription.id):\(trialEnd)",
                notice: SubscriberMessages.trialEnding(plan: plan.name, on: ends), userID: userID)
        }
        if ended {
            // The end is a fact about the subscription, not a state an older event could overwrite.
            let endedAt = (subscription.endedAt ?? subscription.canceledAt).map(StripeEventHandler.date) ?? event.createdAt
            try await tx.execute(
                """
                UPDATE stripe_subscriptions SET ended_at = least(coalesce(ended_at, \(endedAt)), \(endedAt))
                WHERE subscription_id = \(subscription.id)
                """)
            let cut = try await GrantStore.cutSubscription(
                tx, subscriptionRef: subscription.id, at: endedAt, cause: context.cause)
            try await SubscriberNotices.accessEndedIfOver(tx, cut)
            changed = true
        }
        guard event.createdAt >= watermark else { return StripeEffect(changed: changed) }
        // Stripe's `created` has one-second resolution: on a tie, an ended subscription stays ended (a
        // `deleted` and an `updated` of the same second arrive in any order; the deletion is the later fact).
        if event.createdAt == watermark, isEnded(currentStatus), !isEnded(status) {
            return StripeEffect(changed: changed)
        }
        if subscription.cancelAtPeriodEnd, !wasCancelling, !ended {
            try await NotificationOutbox.enqueue(
                tx,
                eventKey: SubscriberNotices.cancellationKey(
                    provider: "stripe", subscriptionID: subscription.id, periodEnd: periodEnd),
                notice: SubscriberMessages.subscriptionCancelled(plan: plan.name, accessUntil: periodEnd), userID: userID)
        }
        let movedPlan = !inserted && currentPlan != nil && currentPlan != plan.code && !ended
        try await tx.execute(
            """
            UPDATE stripe_subscriptions SET status = \(status), plan = \(plan.code), current_period_end = \(periodEnd),
                cancel_at_period_end = \(subscription.cancelAtPeriodEnd), last_event_created = \(event.createdAt),
                plan_changed_at = CASE WHEN \(movedPlan) THEN \(event.createdAt) ELSE plan_changed_at END,
                previous_plan = CASE WHEN \(movedPlan) THEN plan ELSE previous_plan END,
                updated_at = now()
            WHERE subscription_id = \(subscription.id)
            """)
        if movedPlan, let periodEnd, periodEnd > event.createdAt {
            try await GrantStore.cutSubscription(
                tx, subscriptionRef: subscription.id, at: event.createdAt, exceptPlan: plan.code, cause: context.cause)
            let rest = NewGrant(
                userID: userID, plan: plan.code, source: .stripe,
                paymentKey: "stripe:plan-change:\(subscription.id):\(Int64(event.createdAt.timeIntervalSince1970))",
                kind: .period(start: event.createdAt, end: periodEnd), purchasedAt: event.createdAt,
                subscriptionRef: subscription.id)
            try await GrantStore.grant(tx, rest, cause: context.cause)
        }
        return StripeEffect(changed: true)
    }

    /// Statuses after which Stripe never moves a subscription again.
    static func isEnded(_ status: String) -> Bool { status == "canceled" || status == "incomplete_expired" }
}
