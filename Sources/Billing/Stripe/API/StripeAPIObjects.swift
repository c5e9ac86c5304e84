/// Objects `StripeClient` returns.

/// A customer created with `StripeClient.createCustomer`.
public struct StripeCustomer: Sendable, Equatable, Decodable {
    public var id: String
    public var email: String?
    public var name: String?
    public var metadata: [String: String]

    public init(id: String, email: String? = nil, name: String? = nil, metadata: [String: String] = [:]) {
        self.id = id
        self.email = email
        self.name = name
        self.metadata = metadata
    }

    enum CodingKeys: String, CodingKey { case id, email, name, metadata }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.id = try container.decodeRequiredString(.id)
        self.email = try container.decodeIfPresent(String.self, forKey: .email)
        self.name = try container.decodeIfPresent(String.self, forKey: .name)
        self.metadata = try container.decodeMetadata(.metadata)
    }
}

/// A Checkout Session created with `StripeClient.createCheckoutSession`: where to send the buyer.
public struct StripeCheckoutSessionLink: Sendable, Equatable, Codable {
    /// `cs_…`.
    public var id: String
    /// The hosted Checkout page.
    public var url: String

    public init(id: String, url: String) {
        self.id = id
        self.url = url
    }
}

/// A billing-portal session created with `StripeClient.createBillingPortalSession`.
public struct StripeBillingPortalSession: Sendable, Equatable, Codable {
    /// `bps_…`.
    public var id: String
    /// The hosted portal page.
    public var url: String

    public init(id: String, url: String) {
        self.id = id
        self.url = url
    }
}
