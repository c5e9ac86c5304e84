/// The `subscription` object of `customer.subscription.created|updated|deleted` events (and of
/// `StripeClient.retrieveSubscription`).
///
/// Required: `id`, `customer`, `status`. The period end is read at the top level or, for API versions from
/// 2025-03-31 on, from the items.
public struct StripeSubscription: Sendable, Equatable, Decodable {
    public var id: String
    public var customer: String
    public var status: StripeSubscriptionStatus
    public var cancelAtPeriodEnd: Bool
    /// Top-level `current_period_end`, else the latest `items.data[].current_period_end`.
    public var currentPeriodEnd: Int64?
    public var currentPeriodStart: Int64?
    public var cancelAt: Int64?
    public var canceledAt: Int64?
    public var endedAt: Int64?
    /// When a trial ends (`trial_end`), for `customer.subscription.trial_will_end`.
    public var trialEnd: Int64?
    public var items: [Item]
    public var metadata: [String: String]

    /// One element of `items.data`.
    public struct Item: Sendable, Equatable, Decodable {
        public var id: String?
        public var priceID: String?
        public var quantity: Int64?
        public var currentPeriodStart: Int64?
        public var currentPeriodEnd: Int64?

        public init(
            id: String? = nil, priceID: String? = nil, quantity: Int64? = nil, currentPeriodStart: Int64? = nil,
            currentPeriodEnd: Int64? = nil
        ) {
            self.id = id
            self.priceID = priceID
            self.quantity = quantity
            self.currentPeriodStart = currentPeriodStart
            self.currentPeriodEnd = currentPeriodEnd
        }

        enum CodingKeys: String, CodingKey {
            case id, price, quantity
            case currentPeriodStart = "current_period_start"
            case currentPeriodEnd = "current_period_end"
        }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            self.id = try container.decodeIfPresent(String.self, forKey: .id)
            self.priceID = try container.decodeStripeID(.price)
            self.quantity = try container.decodeIfPresent(Int64.self, forKey: .quantity)
            self.currentPeriodStart = try container.decodeIfPresent(Int64.self, forKey: .currentPeriodStart)
            self.currentPeriodEnd = try container.decodeIfPresent(Int64.self, forKey: .currentPeriodEnd)
        }
    }

    public init(
        id: String, customer: String, status: StripeSubscriptionStatus, cancelAtPeriodEnd: Bool = false,
        currentPeriodEnd: Int64? = nil, currentPeriodStart: Int64? = nil, cancelAt: Int64? = nil,
        canceledAt: Int64? = nil, endedAt: Int64? = nil, items: [Item] = [], metadata: [String: String] = [:]
    ) {
        self.id = id
        self.customer = customer
        self.status = status
        self.cancelAtPeriodEnd = cancelAtPeriodEnd
        self.currentPeriodEnd = currentPeriodEnd
        self.currentPeriodStart = currentPeriodStart
        self.cancelAt = cancelAt
        self.canceledAt = canceledAt
        self.endedAt = endedAt
        self.items = items
        self.metadata = metadata
    }

    /// Price ids of the items, in order, without repeats.
    public var priceIDs: [String] {
        var seen: Set<String> = []
        return items.compactMap(\.priceID).filter { seen.insert($0).inserted }
    }

    /// Our user id from `metadata.user_id`.
    public var userID: Int64? { metadata.stripeUserID }

    /// The plan code from `metadata.plan`.
    public var plan: String? { metadata[StripeMetadataKey.plan] }

    enum CodingKeys: String, CodingKey {
        case object, id, customer, status, items, metadata
        case cancelAtPeriodEnd = "cancel_at_period_end"
        case currentPeriodEnd = "current_period_end"
        case currentPeriodStart = "current_period_start"
        case cancelAt = "cancel_at"
        case canceledAt = "canceled_at"
        case endedAt = "ended_at"
        case trialEnd = "trial_end"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        try container.checkObjectType(Self.objectType, key: .object)
        self.id = try container.decodeRequiredString(.id)
        guard let customer = try container.decodeStripeID(.customer), !customer.isEmpty else {
            throw DecodingError.keyNotFound(
                CodingKeys.customer, .init(codingPath: container.codingPath, debugDescription: "customer"))
        }
        self.customer = customer
        self.status = StripeSubscriptionStatus(rawValue: try container.decodeRequiredString(.status))
        self.cancelAtPeriodEnd = try container.decodeIfPresent(Bool.self, forKey: .cancelAtPeriodEnd) ?? false
        self.items = try container.decodeIfPresent(StripeList<Item>.self, forKey: .items)?.data ?? []
        self.currentPeriodEnd =
            try container.decodeIfPresent(Int64.self, forKey: .currentPeriodEnd)
            ?? items.compactMap(\.currentPeriodEnd).max()
        self.currentPeriodStart =
            try container.decodeIfPresent(Int64.self, forKey: .currentPeriodStart)
            ?? items.compactMap(\.currentPeriodStart).min()
        self.cancelAt = try container.decodeIfPresent(Int64.self, forKey: .cancelAt)
        self.canceledAt = try container.decodeIfPresent(Int64.self, forKey: .canceledAt)
        self.endedAt = try container.decodeIfPresent(Int64.self, forKey: .endedAt)
        self.trialEnd = try container.decodeIfPresent(Int64.self, forKey: .trialEnd)
        self.metadata = try container.decodeMetadata(.metadata)
    }
}

extension StripeSubscription: StripeObjectView {
    static let objectType = "subscription"
}
