/// Stripe enumerations as open sets: known values have names, values Stripe adds later still decode.

/// `checkout.session.mode`.
public struct StripeCheckoutMode: RawRepresentable, Hashable, Sendable, Codable, CustomStringConvertible {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public static let payment = StripeCheckoutMode(rawValue: "payment")
    public static let subscription = StripeCheckoutMode(rawValue: "subscription")
    public static let setup = StripeCheckoutMode(rawValue: "setup")
    public var description: String { rawValue }
}

/// `subscription.status`.
public struct StripeSubscriptionStatus: RawRepresentable, Hashable, Sendable, Codable, CustomStringConvertible {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public static let incomplete = StripeSubscriptionStatus(rawValue: "incomplete")
    public static let incompleteExpired = StripeSubscriptionStatus(rawValue: "incomplete_expired")
    public static let trialing = StripeSubscriptionStatus(rawValue: "trialing")
    public static let active = StripeSubscriptionStatus(rawValue: "active")
    public static let pastDue = StripeSubscriptionStatus(rawValue: "past_due")
    public static let canceled = StripeSubscriptionStatus(rawValue: "canceled")
    public static let unpaid = StripeSubscriptionStatus(rawValue: "unpaid")
    public static let paused = StripeSubscriptionStatus(rawValue: "paused")
    public var description: String { rawValue }
}

/// `invoice.status`.
public struct StripeInvoiceStatus: RawRepresentable, Hashable, Sendable, Codable, CustomStringConvertible {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public static let draft = StripeInvoiceStatus(rawValue: "draft")
    public static let open = StripeInvoiceStatus(rawValue: "open")
    public static let paid = StripeInvoiceStatus(rawValue: "paid")
    public static let uncollectible = StripeInvoiceStatus(rawValue: "uncollectible")
    public static let void = StripeInvoiceStatus(rawValue: "void")
    public var description: String { rawValue }
}

/// Metadata keys this server writes on Stripe objects (checkout session, subscription) and reads back from events.
public enum StripeMetadataKey {
    /// Our user id, decimal.
    public static let userID = "user_id"
    /// The plan code.
    public static let plan = "plan"
}

extension Dictionary where Key == String, Value == String {
    /// The user id in `user_id` metadata, when it is a decimal integer.
    var stripeUserID: Int64? { self[StripeMetadataKey.userID].flatMap { Int64($0.trimmingWhitespace) } }
}
