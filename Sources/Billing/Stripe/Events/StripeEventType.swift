/// An event's `type`, as an open set: the types the webhook handles have names, any other still decodes.
public struct StripeEventType: RawRepresentable, Hashable, Sendable, Codable, CustomStringConvertible {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }

    public static let checkoutSessionCompleted = StripeEventType(rawValue: "checkout.session.completed")
    public static let invoicePaid = StripeEventType(rawValue: "invoice.paid")
    public static let invoicePaymentSucceeded = StripeEventType(rawValue: "invoice.payment_succeeded")
    public static let invoicePaymentFailed = StripeEventType(rawValue: "invoice.payment_failed")
    public static let customerSubscriptionCreated = StripeEventType(rawValue: "customer.subscription.created")
    public static let customerSubscriptionUpdated = StripeEventType(rawValue: "customer.subscription.updated")
    public static let customerSubscriptionDeleted = StripeEventType(rawValue: "customer.subscription.deleted")
    public static let chargeRefunded = StripeEventType(rawValue: "charge.refunded")
    public static let checkoutSessionAsyncPaymentSucceeded = StripeEventType(
        rawValue: "checkout.session.async_payment_succeeded")
    public static let customerSubscriptionTrialWillEnd = StripeEventType(rawValue: "customer.subscription.trial_will_end")
    public static let chargeDisputeCreated = StripeEventType(rawValue: "charge.dispute.created")
    public static let chargeDisputeClosed = StripeEventType(rawValue: "charge.dispute.closed")

    /// The types the webhook handles today (docs/api.md, "Stripe webhook"); others are stored as `ignored`.
    public static let handled: Set<StripeEventType> = [
        .checkoutSessionCompleted, .invoicePaid, .invoicePaymentSucceeded, .invoicePaymentFailed,
        .customerSubscriptionCreated, .customerSubscriptionUpdated, .customerSubscriptionDeleted, .chargeRefunded,
        .checkoutSessionAsyncPaymentSucceeded, .customerSubscriptionTrialWillEnd, .chargeDisputeCreated,
        .chargeDisputeClosed,
    ]

    public var isHandled: Bool { Self.handled.contains(self) }
    public var description: String { rawValue }
}
