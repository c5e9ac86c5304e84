/// The `checkout.session` object of `checkout.session.completed` (and related) events.
///
/// Required: `id`, `mode`. Everything else may be absent or null.
public struct StripeCheckoutSession: Sendable, Equatable, Decodable {
    public var id: String
    public var mode: StripeCheckoutMode
    /// Customer id (`cus_…`), also when Stripe sent the expanded object.
    public var customer: String?
    /// Subscription id (`sub_…`) in subscription mode.
    public var subscription: String?
    /// Our user id as text, as set at checkout.
    public var clientReferenceID: String?
    public var metadata: [String: String]
    /// `paid`, `unpaid` or `no_payment_required`.
    public var paymentStatus: String?
    /// `open`, `complete` or `expired`.
    public var status: String?
    public var amountTotal: Int64?
    public var currency: String?
    public var paymentIntent: String?
    /// Unix time the session was created: the purchase time of a one-time payment, the same in every event of it.
    public var created: Int64?

    public init(
        id: String, mode: StripeCheckoutMode, customer: String? = nil, subscription: String? = nil,
        clientReferenceID: String? = nil, metadata: [String: String] = [:], paymentStatus: String? = nil,
        status: String? = nil, amountTotal: Int64? = nil, currency: String? = nil, paymentIntent: String? = nil,
        created: Int64? = nil
    ) {
        self.id = id
        self.mode = mode
        self.customer = customer
        self.subscription = subscription
        self.clientReferenceID = clientReferenceID
        self.metadata = metadata
        self.paymentStatus = paymentStatus
        self.status = status
        self.amountTotal = amountTotal
        self.currency = currency
        self.paymentIntent = paymentIntent
        self.created = created
    }

    /// Our user: `client_reference_id` when it is an integer, else `metadata.user_id`.
    public var userID: Int64? {
        clientReferenceID.flatMap { Int64($0.trimmingWhitespace) } ?? metadata.stripeUserID
    }

    /// The plan code from `metadata.plan`.
    public var plan: String? { metadata[StripeMetadataKey.plan] }

    /// True when the payment is settled (`paid` or `no_payment_required`).
    public var isPaid: Bool { paymentStatus == "paid" || paymentStatus == "no_payment_required" }

    enum CodingKeys: String, CodingKey {
        case object, id, mode, customer, subscription, metadata, status, currency, created
        case clientReferenceID = "client_reference_id"
        case paymentStatus = "payment_status"
        case amountTotal = "amount_total"
        case paymentIntent = "payment_intent"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        try container.checkObjectType(Self.objectType, key: .object)
        self.id = try container.decodeRequiredString(.id)
        self.mode = StripeCheckoutMode(rawValue: try container.decodeRequiredString(.mode))
        self.customer = try container.decodeStripeID(.customer)
        self.subscription = try container.decodeStripeID(.subscription)
        self.clientReferenceID = try container.decodeIfPresent(String.self, forKey: .clientReferenceID)
        self.metadata = try container.decodeMetadata(.metadata)
        self.paymentStatus = try container.decodeIfPresent(String.self, forKey: .paymentStatus)
        self.status = try container.decodeIfPresent(String.self, forKey: .status)
        self.amountTotal = try container.decodeIfPresent(Int64.self, forKey: .amountTotal)
        self.currency = try container.decodeIfPresent(String.self, forKey: .currency)
        self.paymentIntent = try container.decodeStripeID(.paymentIntent)
        self.created = try container.decodeIfPresent(Int64.self, forKey: .created)
    }
}

extension StripeCheckoutSession: StripeObjectView {
    static let objectType = "checkout.session"
}
