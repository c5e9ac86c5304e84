import Foundation

/// A message (`Message`), with the fields the server uses. Unknown fields are ignored.
public struct TelegramMessage: Codable, Sendable, Equatable {
    public var messageID: Int64
    /// The sender; absent for channel posts.
    public var from: TelegramUser?
    public var chat: TelegramChat
    /// Unix time the message was sent.
    public var date: Int64
    public var text: String?
    /// The invoice of a message sent by `sendInvoice`.
    public var invoice: TelegramInvoice?
    /// Service message: a payment went through.
    public var successfulPayment: SuccessfulPayment?
    /// Service message: a payment was refunded.
    public var refundedPayment: RefundedPayment?
    /// The inline keyboard attached to the message.
    public var replyMarkup: InlineKeyboardMarkup?

    public init(
        messageID: Int64,
        from: TelegramUser? = nil,
        chat: TelegramChat,
        date: Int64,
        text: String? = nil,
        invoice: TelegramInvoice? = nil,
        successfulPayment: SuccessfulPayment? = nil,
        refundedPayment: RefundedPayment? = nil,
        replyMarkup: InlineKeyboardMarkup? = nil
    ) {
        self.messageID = messageID
        self.from = from
        self.chat = chat
        self.date = date
        self.text = text
        self.invoice = invoice
        self.successfulPayment = successfulPayment
        self.refundedPayment = refundedPayment
        self.replyMarkup = replyMarkup
    }

    /// `date` as a `Date`.
    public var sentAt: Date { Date(timeIntervalSince1970: TimeInterval(date)) }

    enum CodingKeys: String, CodingKey {
        case messageID = "message_id"
        case from, chat, date, text, invoice
        case successfulPayment = "successful_payment"
        case refundedPayment = "refunded_payment"
        case replyMarkup = "reply_markup"
    }
}

/// The invoice shown by an invoice message (`Invoice`).
public struct TelegramInvoice: Codable, Sendable, Equatable {
    public var title: String
    public var description: String
    public var startParameter: String
    public var currency: String
    public var totalAmount: Int

    public init(title: String, description: String, startParameter: String = "", currency: String, totalAmount: Int) {
        self.title = title
        self.description = description
        self.startParameter = startParameter
        self.currency = currency
        self.totalAmount = totalAmount
    }

    enum CodingKeys: String, CodingKey {
        case title, description, currency
        case startParameter = "start_parameter"
        case totalAmount = "total_amount"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        title = try container.decode(String.self, forKey: .title)
        description = try container.decodeIfPresent(String.self, forKey: .description) ?? ""
        startParameter = try container.decodeIfPresent(String.self, forKey: .startParameter) ?? ""
        currency = try container.decode(String.self, forKey: .currency)
        totalAmount = try container.decode(Int.self, forKey: .totalAmount)
    }
}
