import Billing
import Foundation
import Hummingbird

extension AdminUserDTO {
    struct StarsSubscription: Encodable, Sendable {
        var first_charge_id, plan, created_at: String
        @Nullable var expires_at: String?
        var canceled: Bool

        init(_ row: CustomerRecord.StarsSubscriptionRow) {
            first_charge_id = row.firstChargeID
            plan = row.plan
            created_at = APIFormat.timestamp(row.createdAt)
            expires_at = APIFormat.timestamp(row.expiresAt)
            canceled = row.canceled
        }
    }

    struct StripeSubscription: Encodable, Sendable {
        var subscription_id, status, created_at: String
        @Nullable var plan: String?
        @Nullable var current_period_end: String?
        @Nullable var ended_at: String?
        var cancel_at_period_end: Bool

        init(_ row: CustomerRecord.StripeSubscriptionRow) {
            subscription_id = row.subscriptionID
            status = row.status
            created_at = APIFormat.timestamp(row.createdAt)
            plan = row.plan
            current_period_end = APIFormat.timestamp(row.currentPeriodEnd)
            ended_at = APIFormat.timestamp(row.endedAt)
            cancel_at_period_end = row.cancelAtPeriodEnd
        }
    }

    /// `GET /admin/v1/users/{telegram_id}`: the contract's six keys, then both providers' subscriptions.
    struct Record: ResponseEncodable, Sendable {
        var user: User
        var entitlements: [Entitlement]
        var grants: [Grant]
        var invoices: [Invoice]
        var payment_events: [PaymentEventList.Item]
        var changes: [Change]
        var stars_subscriptions: [StarsSubscription]
        var stripe_subscriptions: [StripeSubscription]
        /// The most rows any list holds (the request's `limit`).
        var limit: Int

        init(_ record: CustomerRecord, limit: Int) {
            user = User(record.user)
            entitlements = record.entitlements.map(Entitlement.init)
            grants = record.grants.map(Grant.init)
            invoices = record.invoices.map(Invoice.init)
            payment_events = record.paymentEvents.map(PaymentEventList.Item.init)
            changes = record.changes.map(Change.init)
            stars_subscriptions = record.starsSubscriptions.map(StarsSubscription.init)
            stripe_subscriptions = record.stripeSubscriptions.map(StripeSubscription.init)
            self.limit = limit
        }
    }
}
