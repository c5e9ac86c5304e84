import Foundation

/// Everything about one customer that an operator needs to answer "I paid, where is my access?", as
/// `CustomerLookupStore.record` reads it. Each list is newest first and bounded by the lookup's limit.
public struct CustomerRecord: Sendable, Equatable {
    public var user: CustomerSummary
    public var entitlements: [Entitlement]
    public var grants: [GrantRow]
    public var invoices: [Invoice]
    public var paymentEvents: [PaymentEvent]
    public var changes: [ChangeRow]
    public var starsSubscriptions: [StarsSubscriptionRow]
    public var stripeSubscriptions: [StripeSubscriptionRow]

    /// A user as the search lists them.
    public struct CustomerSummary: Sendable, Equatable {
        public var id: Int64
        public var telegramID: Int64
        public var username: String?
        public var firstName: String?
        public var createdAt: Date
    }

    /// One `user_entitlements` row (the read model of the grants).
    public struct Entitlement: Sendable, Equatable {
        public var plan: String
        public var status: String
        public var source: String
        public var startsAt: Date
        public var expiresAt: Date
        public var updatedAt: Date
    }

    /// One grant, with the invoice and ledger event of the payment behind it when there are.
    public struct GrantRow: Sendable, Equatable {
        public var id: Int64
        public var plan: String
        public var source: String
        public var paymentKey: String
        public var kind: String
        public var state: String
        public var grace: Bool
        public var purchasedAt: Date
        public var startsAt: Date?
        public var endsAt: Date?
        public var cutAt: Date?
        public var subscriptionRef: String?
        public var refs: [String]
        public var paymentEventID: Int64?
        public var paymentEventType: String?
        public var invoice: Invoice?
    }

    /// One `entitlement_changes` row (the append-only audit trail).
    public struct ChangeRow: Sendable, Equatable {
        public var id: Int64
        public var plan: String
        public var action: String
        public var actor: String
        public var reason: String
        public var beforeStatus: String?
        public var afterStatus: String
        public var beforeExpiresAt: Date?
        public var afterExpiresAt: Date
        public var paymentEventID: Int64?
        public var grantID: Int64?
        public var createdAt: Date
    }

    /// A Stars subscription recorded at its first payment.
    public struct StarsSubscriptionRow: Sendable, Equatable {
        public var firstChargeID: String
        public var plan: String
        public var expiresAt: Date?
        public var canceled: Bool
        public var createdAt: Date
    }

    /// A Stripe subscription as Stripe last told it.
    public struct StripeSubscriptionRow: Sendable, Equatable {
        public var subscriptionID: String
        public var plan: String?
        public var status: String
        public var currentPeriodEnd: Date?
        public var cancelAtPeriodEnd: Bool
        public var endedAt: Date?
        public var createdAt: Date
    }
}
