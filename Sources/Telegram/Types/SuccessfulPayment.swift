import Foundation

/// A completed payment (`SuccessfulPayment`), sent as a service message.
///
/// Renewals of a Stars subscription arrive as new successful payments with a new charge id, `is_recurring` true,
/// and the *original* invoice payload.
public struct SuccessfulPayment: Codable, Sendable, Equatable {
    /// `XTR` for Telegram Stars.
    public var currency: String
    /// Whole Stars for `XTR`.
    public var totalAmount: Int
    public var invoicePayload: String
    /// The charge id: the key of the payment (refunds name it).
    public var telegramPaymentChargeID: String
    /// Empty for Stars payments.
    public var providerPaymentChargeID: String
    /// Unix time the subscription period paid for ends (subscriptions only).
    public var subscriptionExpirationDate: Int64?
    public var isRecurring: Bool?
    public var isFirstRecurring: Bool?

    public init(
        currency: String,
        totalAmount: Int,
        invoicePayload: String,
        telegramPaymentChargeID: String,
        providerPaymentChargeID: String = "",
        subscriptionExpirationDate: Int64? = nil,
        isRecurring: Bool? = nil,
        isFirstRecurring: Bool? = nil
    ) {
        self.currency = currency
        self.totalAmount = totalAmount
        self.invoicePayload = invoicePayload
        self.telegramPaymentChargeID = telegramPaymentChargeID
        self.providerPaymentChargeID = providerPaymentChargeID
        self.subscriptionExpirationDate = subscriptionExpirationDate
        self.isRecurring = isRecurring
        self.isFirstRecurring = isFirstRecurring
    }

    /// `subscription_expiration_date` as a `Date`.
    public var subscriptionExpiresAt: Date? {
        subscriptionExpirationDate.map { Date(timeIntervalSince1970: TimeInterval($0)) }
    }

    enum CodingKeys: String, CodingKey {
        case currency
        case totalAmount = "total_amount"
        case invoicePayload = "invoice_payload"
        case telegramPaymentChargeID = "telegram_payment_charge_id"
        case providerPaymentChargeID = "provider_payment_charge_id"
        case subscriptionExpirationDate = "subscription_expiration_date"
        case isRecurring = "is_recurring"
        case isFirstRecurring = "is_first_recurring"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        currency = try container.decode(String.self, forKey: .currency)
        totalAmount = try container.decode(Int.self, forKey: .totalAmount)
        invoicePayload = try container.decodeIfPresent(String.self, forKey: .invoicePayload) ?? ""
        telegramPaymentChargeID = try container.decode(String.self, forKey: .telegramPaymentChargeID)
        providerPaymentChargeID = try container.decodeIfPresent(String.self, forKey: .providerPaymentChargeID) ?? ""
        subscriptionExpirationDate = try container.decodeIfPresent(Int64.self, forKey: .subscriptionExpirationDate)
        isRecurring = try container.decodeIfPresent(Bool.self, forKey: .isRecurring)
        isFirstRecurring = try container.decodeIfPresent(Bool.self, forKey: .isFirstRecurring)
    }
}
