/// The `charge` object of `charge.refunded` events.
///
/// Required: `id`, `amount`, `amount_refunded`, `refunded`, `currency`. `invoice` is absent in API versions from
/// 2025-03-31 on (find the invoice through `payment_intent` then).
public struct StripeCharge: Sendable, Equatable, Decodable {
    public var id: String
    public var customer: String?
    public var invoice: String?
    public var amount: Int64
    public var amountRefunded: Int64
    /// True when the charge is fully refunded.
    public var refunded: Bool
    public var currency: String
    public var paymentIntent: String?
    public var metadata: [String: String]

    public init(
        id: String, customer: String? = nil, invoice: String? = nil, amount: Int64, amountRefunded: Int64,
        refunded: Bool, currency: String, paymentIntent: String? = nil, metadata: [String: String] = [:]
    ) {
        self.id = id
        self.customer = customer
        self.invoice = invoice
        self.amount = amount
        self.amountRefunded = amountRefunded
        self.refunded = refunded
        self.currency = currency
        self.paymentIntent = paymentIntent
        self.metadata = metadata
    }

    /// Fully refunded: `refunded`, or everything captured given back.
    public var isFullyRefunded: Bool { refunded || (amount > 0 && amountRefunded >= amount) }

    /// Our user id from `metadata.user_id`.
    public var userID: Int64? { metadata.stripeUserID }

    enum CodingKeys: String, CodingKey {
        case object, id, customer, invoice, amount, refunded, currency, metadata
        case amountRefunded = "amount_refunded"
        case paymentIntent = "payment_intent"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        try container.checkObjectType(Self.objectType, key: .object)
        self.id = try container.decodeRequiredString(.id)
        self.customer = try container.decodeStripeID(.customer)
        self.invoice = try container.decodeStripeID(.invoice)
        self.amount = try container.decode(Int64.self, forKey: .amount)
        self.amountRefunded = try container.decode(Int64.self, forKey: .amountRefunded)
        self.refunded = try container.decode(Bool.self, forKey: .refunded)
        self.currency = try container.decodeRequiredString(.currency)
        self.paymentIntent = try container.decodeStripeID(.paymentIntent)
        self.metadata = try container.decodeMetadata(.metadata)
    }
}

extension StripeCharge: StripeObjectView {
    static let objectType = "charge"
}
