/// The `invoice` object of `invoice.paid`, `invoice.payment_succeeded` and `invoice.payment_failed`.
///
/// Reads both the classic shape and the one of API versions from 2025-03-31 on, where the subscription and its
/// metadata moved under `parent.subscription_details` and line prices under `pricing.price_details.price`.
/// Required: `id`, `currency`, `amount_paid` (the minimal invoice of the signature vectors has no `amount_due` and no
/// `created`; use the event's `created` then).
public struct StripeInvoice: Sendable, Equatable, Decodable {
    public var id: String
    public var customer: String?
    /// `subscription`, else `parent.subscription_details.subscription`, else the first line's subscription.
    public var subscription: String?
    public var status: StripeInvoiceStatus?
    public var amountPaid: Int64
    public var amountDue: Int64?
    public var currency: String
    public var hostedInvoiceURL: String?
    public var created: Int64?
    /// The invoice's own period (for subscription invoices, usually the *previous* period: use the lines).
    public var periodStart: Int64?
    public var periodEnd: Int64?
    public var lines: [Line]
    public var metadata: [String: String]
    /// `payment_intent` and `charge` (API versions before 2025-03-31; later ones link payments through
    /// `invoice_payments`): what a refund or dispute of this invoice's payment names.
    public var paymentIntent: String?
    public var charge: String?
    /// `subscription_create`, `subscription_cycle`, `subscription_update`, `manual`, ...
    public var billingReason: String?
    /// `subscription_details.metadata` merged with `parent.subscription_details.metadata` (the latter wins).
    public var subscriptionMetadata: [String: String]

    /// One line of `lines.data`.
    public struct Line: Sendable, Equatable, Decodable {
        public var id: String?
        public var periodStart: Int64?
        public var periodEnd: Int64?
        /// `price.id`, else `pricing.price_details.price`.
        public var priceID: String?
        public var subscription: String?
        public var metadata: [String: String]

        public init(
            id: String? = nil, periodStart: Int64? = nil, periodEnd: Int64? = nil, priceID: String? = nil,
            subscription: String? = nil, metadata: [String: String] = [:]
        ) {
            self.id = id
            self.periodStart = periodStart
            self.periodEnd = periodEnd
            self.priceID = priceID
            self.subscription = subscription
            self.metadata = metadata
        }

        enum CodingKeys: String, CodingKey {
            case id, period, price, pricing, subscription, metadata, parent
        }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            self.id = try container.decodeIfPresent(String.self, forKey: .id)
            if container.contains(.period), try !container.decodeNil(forKey: .period) {
                let period = try container.nestedContainer(keyedBy: StripeKey.self, forKey: .period)
                self.periodStart = try period.decodeIfPresent(Int64.self, forKey: StripeKey("start"))
                self.periodEnd = try period.decodeIfPresent(Int64.self, forKey: StripeKey("end"))
            }
            var price = try container.decodeStripeID(.price)
            if price == nil, container.contains(.pricing), try !container.decodeNil(forKey: .pricing) {
                let pricing = try container.nestedContainer(keyedBy: StripeKey.self, forKey: .pricing)
                let details = StripeKey("price_details")
                if pricing.contains(details), try !pricing.decodeNil(forKey: details) {
                    price = try pricing.nestedContainer(keyedBy: StripeKey.self, forKey: details)
                        .decodeStripeID(StripeKey("price"))
                }
            }
            self.priceID = price
            var subscription = try container.decodeStripeID(.subscription)
            if subscription == nil, container.contains(.parent), try !container.decodeNil(forKey: .parent) {
                let parent = try container.nestedContainer(keyedBy: StripeKey.self, forKey: .parent)
                for detailsKey in ["subscription_item_details", "invoice_item_details"] where subscription == nil {
                    let key = StripeKey(detailsKey)
                    if parent.contains(key), try !parent.decodeNil(forKey: key) {
                        subscription = try parent.decode(StripeMetadataHolder.self, forKey: key).subscription
                    }
                }
            }
            self.subscription = subscription
            self.metadata = try container.decodeMetadata(.metadata)
        }
    }

    public init(
        id: String, customer: String? = nil, subscription: String? = nil, status: StripeInvoiceStatus? = nil,
        amountPaid: Int64, amountDue: Int64? = nil, currency: String, hostedInvoiceURL: String? = nil, created: Int64? = nil,
        periodStart: Int64? = nil, periodEnd: Int64? = nil, lines: [Line] = [], metadata: [String: String] = [:],
        subscriptionMetadata: [String: String] = [:]
    ) {
        self.id = id
        self.customer = customer
        self.subscription = subscription
        self.status = status
        self.amountPaid = amountPaid
        self.amountDue = amountDue
        self.currency = currency
        self.hostedInvoiceURL = hostedInvoiceURL
        self.created = created
        self.periodStart = periodStart
        self.periodEnd = periodEnd
        self.lines = lines
        self.metadata = metadata
        self.subscriptionMetadata = subscriptionMetadata
    }

    /// Every id a refund or dispute of this invoice's payment may name.
    public var paymentRefs: [String] {
        [GrantRef.invoice(id)] + [paymentIntent.map(GrantRef.paymentIntent), charge.map(GrantRef.charge)].compactMap { $0 }
    }

    /// The latest `period.end` over the lines: how long a paid subscription invoice grants access.
    public var linePeriodEnd: Int64? { lines.compactMap(\.periodEnd).max() }

    /// The earliest `period.start` over the lines.
    public var linePeriodStart: Int64? { lines.compactMap(\.periodStart).min() }

    /// Price ids of the lines, in order, without repeats.
    public var priceIDs: [String] {
        var seen: Set<String> = []
        return lines.compactMap(\.priceID).filter { seen.insert($0).inserted }
    }

    /// Every metadata source, most specific last: line metadata, subscription metadata, invoice metadata.
    public var combinedMetadata: [String: String] {
        var combined: [String: String] = [:]
        for line in lines { combined.merge(line.metadata) { _, new in new } }
        combined.merge(subscriptionMetadata) { _, new in new }
        combined.merge(metadata) { _, new in new }
        return combined
    }

    /// Our user id from `combinedMetadata`.
    public var userID: Int64? { combinedMetadata.stripeUserID }

    /// The plan code from `combinedMetadata`.
    public var plan: String? { combinedMetadata[StripeMetadataKey.plan] }

    enum CodingKeys: String, CodingKey {
        case object, id, customer, subscription, status, currency, created, lines, metadata, parent
        case amountPaid = "amount_paid"
        case amountDue = "amount_due"
        case hostedInvoiceURL = "hosted_invoice_url"
        case periodStart = "period_start"
        case periodEnd = "period_end"
        case subscriptionDetails = "subscription_details"
        case paymentIntent = "payment_intent"
        case charge
        case billingReason = "billing_reason"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        try container.checkObjectType(Self.objectType, key: .object)
        self.id = try container.decodeRequiredString(.id)
        self.customer = try container.decodeStripeID(.customer)
        self.status = try container.decodeIfPresent(String.self, forKey: .status).map(StripeInvoiceStatus.init(rawValue:))
        self.amountPaid = try container.decode(Int64.self, forKey: .amountPaid)
        self.amountDue = try container.decodeIfPresent(Int64.self, forKey: .amountDue)
        self.currency = try container.decodeRequiredString(.currency)
        self.hostedInvoiceURL = try container.decodeIfPresent(String.self, forKey: .hostedInvoiceURL)
        self.created = try container.decodeIfPresent(Int64.self, forKey: .created)
        self.periodStart = try container.decodeIfPresent(Int64.self, forKey: .periodStart)
        self.periodEnd = try container.decodeIfPresent(Int64.self, forKey: .periodEnd)
        self.lines = try container.decodeIfPresent(StripeList<Line>.self, forKey: .lines)?.data ?? []
        self.metadata = try container.decodeMetadata(.metadata)
        self.paymentIntent = try container.decodeStripeID(.paymentIntent)
        self.charge = try container.decodeStripeID(.charge)
        self.billingReason = try container.decodeIfPresent(String.self, forKey: .billingReason)
        let legacy = try container.decodeIfPresent(StripeMetadataHolder.self, forKey: .subscriptionDetails)
        var current: StripeMetadataHolder?
        if container.contains(.parent), try !container.decodeNil(forKey: .parent) {
            let parent = try container.nestedContainer(keyedBy: StripeKey.self, forKey: .parent)
            current = try parent.decodeIfPresent(StripeMetadataHolder.self, forKey: StripeKey("subscription_details"))
        }
        self.subscriptionMetadata = (legacy?.metadata ?? [:]).merging(current?.metadata ?? [:]) { _, new in new }
        self.subscription =
            try container.decodeStripeID(.subscription) ?? current?.subscription
            ?? lines.lazy.compactMap(\.subscription).first
    }
}

extension StripeInvoice: StripeObjectView {
    static let objectType = "invoice"
}
