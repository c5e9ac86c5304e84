/// A refunded payment (`RefundedPayment`), sent as a service message.
public struct RefundedPayment: Codable, Sendable, Equatable {
    /// `XTR` for Telegram Stars.
    public var currency: String
    public var totalAmount: Int
    public var invoicePayload: String
    /// The charge id of the payment that was refunded.
    public var telegramPaymentChargeID: String
    public var providerPaymentChargeID: String?

    public init(
        currency: String,
        totalAmount: Int,
        invoicePayload: String,
        telegramPaymentChargeID: String,
        providerPaymentChargeID: String? = nil
    ) {
        self.currency = currency
        self.totalAmount = totalAmount
        self.invoicePayload = invoicePayload
        self.telegramPaymentChargeID = telegramPaymentChargeID
        self.providerPaymentChargeID = providerPaymentChargeID
    }

    enum CodingKeys: String, CodingKey {
        case currency
        case totalAmount = "total_amount"
        case invoicePayload = "invoice_payload"
        case telegramPaymentChargeID = "telegram_payment_charge_id"
        case providerPaymentChargeID = "provider_payment_charge_id"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        currency = try container.decode(String.self, forKey: .currency)
        totalAmount = try container.decode(Int.self, forKey: .totalAmount)
        invoicePayload = try container.decodeIfPresent(String.self, forKey: .invoicePayload) ?? ""
        telegramPaymentChargeID = try container.decode(String.self, forKey: .telegramPaymentChargeID)
        providerPaymentChargeID = try container.decodeIfPresent(String.self, forKey: .providerPaymentChargeID)
    }
}
