import Billing
import MiniApp

extension MiniAppAuthError: ProblemConvertible {
    var problem: ProblemError {
        switch self {
        case .rateLimited(let seconds):
            .tooManyRequests("too many sign-in attempts; try again later", retryAfterSeconds: seconds)
        default:
            .unauthorized("the initData is invalid, tampered with or expired", challenge: "tma")
        }
    }
}

extension CheckoutError: ProblemConvertible {
    var problem: ProblemError {
        switch self {
        case .invalidIdempotencyKey: .badRequest(description)
        case .unknownPlan, .notSellable, .idempotencyKeyReused: .unprocessable(description)
        case .inFlight, .alreadySubscribed: .conflict(description)
        case .noStripeCustomer: .notFound(description)
        case .providerFailed: ProblemError(.badGateway, detail: description)
        }
    }
}

extension SubscriptionRenewalError: ProblemConvertible {
    var problem: ProblemError {
        switch self {
        case .noSubscription: .notFound(description)
        case .providerFailed: ProblemError(.badGateway, detail: description)
        }
    }
}
