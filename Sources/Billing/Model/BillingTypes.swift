/// Payment providers, as written in `source`, `provider` and metric labels.
public enum PaymentProvider: String, Sendable, Codable, CaseIterable {
    case stripe
    case telegramStars = "telegram_stars"
}

/// Who granted an entitlement.
public enum EntitlementSource: String, Sendable, Codable, CaseIterable {
    case stripe
    case telegramStars = "telegram_stars"
    case admin

    public init(_ provider: PaymentProvider) {
        switch provider {
        case .stripe: self = .stripe
        case .telegramStars: self = .telegramStars
        }
    }
}

/// Entitlement statuses (the CHECK constraint of `user_entitlements.status`).
public enum EntitlementStatus: String, Sendable, Codable, CaseIterable {
    case active
    case pastDue = "past_due"
    case canceled
    case revoked
    case expired

    /// Statuses that give access while `expires_at` is in the future.
    public var grantsAccess: Bool { self == .active || self == .pastDue }
}

/// Who made an entitlement change (`entitlement_changes.actor`).
public enum ChangeActor: String, Sendable, Codable {
    case stripe
    case telegramStars = "telegram_stars"
    case admin
    case system

    public init(_ source: EntitlementSource) {
        switch source {
        case .stripe: self = .stripe
        case .telegramStars: self = .telegramStars
        case .admin: self = .admin
        }
    }
}

/// Domain errors of Billing that the HTTP layer maps to problem+json.
public enum BillingError: Error, Sendable, Equatable, CustomStringConvertible {
    case userNotFound
    case planNotFound(String)
    case planNotSellable(plan: String, provider: PaymentProvider)
    case entitlementNotFound

    public var description: String {
        switch self {
        case .userNotFound: "user not found"
        case .planNotFound(let plan): "plan \(plan) does not exist or is inactive"
        case .planNotSellable(let plan, let provider): "plan \(plan) cannot be bought with \(provider.rawValue)"
        case .entitlementNotFound: "entitlement not found"
        }
    }
}
