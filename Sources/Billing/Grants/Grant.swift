import Foundation

/// What one paying object bought: a row of `entitlement_grants`. Access to a plan is the union of its live grants
/// (see `entitlement_recompute` in `sql/0008_grants.up.sql` and `GrantLayout`, its reference in Swift).
public struct NewGrant: Sendable, Equatable {
    /// How the grant's days are placed.
    public enum Kind: Sendable, Equatable {
        /// An absolute period (a Stripe subscription invoice's line period, a Stars subscription payment).
        case period(start: Date, end: Date)
        /// A length laid after the access the user already holds for the plan when it is bought (one-time
        /// payments, admin grants).
        case duration(seconds: Int64)
    }

    public var userID: Int64
    public var plan: String
    public var source: EntitlementSource
    /// The paying object's natural key, UNIQUE: `stripe:invoice:in_…`, `stripe:payment:pi_…`, `stars:ch_…`,
    /// `admin:<idempotency key>`, `stripe:grace:in_…`.
    public var paymentKey: String
    public var kind: Kind
    /// A past-due grace period (the access it gives reads `past_due`).
    public var grace: Bool
    public var purchasedAt: Date
    /// The Stripe subscription id or the Stars subscription's first charge id.
    public var subscriptionRef: String?
    /// Every id a refund or dispute may name for this payment (`GrantRef`).
    public var refs: [String]

    public init(
        userID: Int64, plan: String, source: EntitlementSource, paymentKey: String, kind: Kind, grace: Bool = false,
        purchasedAt: Date, subscriptionRef: String? = nil, refs: [String] = []
    ) {
        self.userID = userID
        self.plan = plan
        self.source = source
        self.paymentKey = paymentKey
        self.kind = kind
        self.grace = grace
        self.purchasedAt = purchasedAt
        self.subscriptionRef = subscriptionRef
        self.refs = refs
    }
}

/// The states of a grant (`entitlement_grants.state`). Only `active` grants give access.
public enum GrantState: String, Sendable, Codable, CaseIterable {
    case active
    case refunded
    case disputed
    case chargedBack = "charged_back"
    case canceled
    case revoked
}

/// The ids refunds and disputes name, as stored in `entitlement_grants.refs` and `payment_refunds.ref`.
public enum GrantRef {
    public static func invoice(_ id: String) -> String { "in:" + id }
    public static func paymentIntent(_ id: String) -> String { "pi:" + id }
    public static func charge(_ id: String) -> String { "ch:" + id }
    public static func checkoutSession(_ id: String) -> String { "cs:" + id }
    public static func starsCharge(_ id: String) -> String { "stars:" + id }
}

/// The read model after a recompute: what `user_entitlements` now says, and whether this change moved it.
public struct EntitlementState: Sendable, Equatable {
    public var status: EntitlementStatus
    public var expiresAt: Date
    /// False when the row already said exactly this (no audit row was written).
    public var changed: Bool

    public init(status: EntitlementStatus, expiresAt: Date, changed: Bool) {
        self.status = status
        self.expiresAt = expiresAt
        self.changed = changed
    }
}
