/// Why a Stripe event could not be applied. The event is then stored as `failed` and retried by the worker
/// (a later event, such as `checkout.session.completed` linking the customer, often makes a retry succeed).
public enum StripeProcessingError: Error, Sendable, Equatable, CustomStringConvertible {
    case noUser(object: String)
    case unknownUser(Int64)
    case unknownPlan(object: String)
    case missingPeriodEnd(invoice: String)

    public var description: String {
        switch self {
        case .noUser(let object): "\(object) names no user (metadata.user_id, client_reference_id or a known customer)"
        case .unknownUser(let id): "user \(id) does not exist"
        case .unknownPlan(let object): "\(object) names no known plan (metadata.plan or a plan's stripe_price_id)"
        case .missingPeriodEnd(let invoice): "invoice \(invoice) has no period end"
        }
    }
}
