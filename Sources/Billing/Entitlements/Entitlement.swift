import Foundation

/// A user's entitlement to a plan. Expiry is derived at read time: an `active` or `past_due` row whose
/// `expiresAt` has passed reads as `expired`.
public struct Entitlement: Sendable, Codable, Equatable {
    public var id: Int64
    public var userID: Int64
    public var plan: String
    public var status: EntitlementStatus
    public var source: EntitlementSource
    public var startsAt: Date
    public var expiresAt: Date

    public init(
        id: Int64, userID: Int64, plan: String, status: EntitlementStatus, source: EntitlementSource, startsAt: Date,
        expiresAt: Date
    ) {
        self.id = id
        self.userID = userID
        self.plan = plan
        self.status = status
        self.source = source
        self.startsAt = startsAt
        self.expiresAt = expiresAt
    }

    /// The status as of `now`: time-expired rows read `expired`.
    public func effectiveStatus(at now: Date = Date()) -> EntitlementStatus {
        status.grantsAccess && expiresAt <= now ? .expired : status
    }

    /// True when the entitlement gives access at `now`.
    public func isActive(at now: Date = Date()) -> Bool { effectiveStatus(at: now).grantsAccess }
}

/// One audited change: the `entitlement_changes` row written with it.
public struct EntitlementChange: Sendable, Equatable {
    public enum Action: String, Sendable {
        case grant
        case extend
        case revoke
        case status
    }

    public var changeID: Int64
    public var entitlementID: Int64
    public var action: Action
    public var beforeStatus: EntitlementStatus?
    public var afterStatus: EntitlementStatus
    public var beforeExpiresAt: Date?
    public var afterExpiresAt: Date
}

/// Why and by whom an entitlement changes; written to `entitlement_changes`.
public struct ChangeCause: Sendable {
    public var actor: ChangeActor
    public var reason: String
    /// The `payment_events.id` that caused it, when a payment did.
    public var paymentEventID: Int64?

    public init(actor: ChangeActor, reason: String, paymentEventID: Int64? = nil) {
        self.actor = actor
        // `entitlement_changes.reason` holds 1-500 characters as PostgreSQL counts them: Unicode scalars, not
        // Swift Characters (a flag emoji is one Character but two scalars).
        self.reason = String(String.UnicodeScalarView(reason.unicodeScalars.prefix(500)))
        self.paymentEventID = paymentEventID
    }
}
