import Billing

/// Why a checkout or portal request cannot be served; the App maps each to its problem+json status.
public enum CheckoutError: Error, Sendable, Equatable, CustomStringConvertible {
    /// 400: `Idempotency-Key` missing or not 1–255 characters.
    case invalidIdempotencyKey
    /// 422: no active plan with this code.
    case unknownPlan(String)
    /// 422: the plan has no price with this provider (or the provider is not configured).
    case notSellable(plan: String, provider: PaymentProvider)
    /// 422: the key was used with another request body.
    case idempotencyKeyReused
    /// 409: the first request with this key is still running.
    case inFlight
    /// 409: the user already holds this recurring plan through an active subscription of this provider.
    case alreadySubscribed(plan: String, provider: PaymentProvider)
    /// 404: the user has no Stripe customer yet (portal).
    case noStripeCustomer
    /// 502: the provider failed; the key is released so the client may retry with it.
    case providerFailed(PaymentProvider)

    public var description: String {
        switch self {
        case .invalidIdempotencyKey: "the Idempotency-Key header is required (1 to 255 characters)"
        case .unknownPlan(let plan): "plan \(plan) does not exist or is not for sale"
        case .notSellable(let plan, let provider): "plan \(plan) cannot be bought with \(provider.rawValue)"
        case .idempotencyKeyReused: "this Idempotency-Key was already used with a different request"
        case .inFlight: "a request with this Idempotency-Key is still running"
        case .alreadySubscribed(let plan, let provider):
            "you already subscribe to \(plan) with \(provider.rawValue); manage that subscription instead"
        case .noStripeCustomer: "no Stripe customer yet: buy a plan by card first"
        case .providerFailed(let provider): "\(provider.rawValue) did not answer; try again with the same Idempotency-Key"
        }
    }
}
