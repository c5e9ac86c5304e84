/// The `dispute` object of `charge.dispute.created` and `charge.dispute.closed`.
///
/// Required: `id`, `charge`, `status`. `payment_intent` names the payment too (and links it to an invoice on API
/// versions where charges no longer carry `invoice`).
public struct StripeDispute: Sendable, Equatable, Decodable {
    public var id: String
    public var charge: String
    public var paymentIntent: String?
    /// `warning_needs_response`, `needs_response`, `under_review`, `won`, `lost`, ...
    public var status: String

    public init(id: String, charge: String, paymentIntent: String? = nil, status: String) {
        self.id = id
        self.charge = charge
        self.paymentIntent = paymentIntent
        self.status = status
    }

    /// Every id of the disputed payment a grant may carry.
    public var paymentRefs: [String] {
        [GrantRef.charge(charge)] + [paymentIntent.map(GrantRef.paymentIntent)].compactMap { $0 }
    }

    enum CodingKeys: String, CodingKey {
        case object, id, charge, status
        case paymentIntent = "payment_intent"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        try container.checkObjectType(Self.objectType, key: .object)
        self.id = try container.decodeRequiredString(.id)
        guard let charge = try container.decodeStripeID(.charge) else {
            throw DecodingError.keyNotFound(
                CodingKeys.charge, .init(codingPath: container.codingPath, debugDescription: "a dispute names its charge"))
        }
        self.charge = charge
        self.paymentIntent = try container.decodeStripeID(.paymentIntent)
        self.status = try container.decodeRequiredString(.status)
    }
}

extension StripeDispute: StripeObjectView {
    static let objectType = "dispute"
}
