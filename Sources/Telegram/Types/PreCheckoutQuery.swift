/// A buyer is about to pay (`PreCheckoutQuery`). It must be answered with `answerPreCheckoutQuery` within
/// 10 seconds, or the payment is cancelled.
public struct PreCheckoutQuery: Codable, Sendable, Equatable {
    public var id: String
    public var from: TelegramUser
    /// `XTR` for Telegram Stars.
    public var currency: String
    /// In the currency's smallest unit: whole Stars for `XTR`.
    public var totalAmount: Int
    /// The payload the invoice was created with.
    public var invoicePayload: String

    public init(id: String, from: TelegramUser, currency: String, totalAmount: Int, invoicePayload: String) {
        self.id = id
        self.from = from
        self.currency = currency
        self.totalAmount = totalAmount
        self.invoicePayload = invoicePayload
    }

    enum CodingKeys: String, CodingKey {
        case id, from, currency
        case totalAmount = "total_amount"
        case invoicePayload = "invoice_payload"
    }
}
