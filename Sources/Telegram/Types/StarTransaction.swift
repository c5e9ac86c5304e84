/// A Telegram Stars transaction of the bot (`StarTransaction`).
public struct StarTransaction: Codable, Sendable, Equatable {
    /// For a payment by a user, the `telegram_payment_charge_id`; for refunds the refunded charge.
    public var id: String
    /// Whole Stars.
    public var amount: Int
    public var nanostarAmount: Int?
    /// Unix time.
    public var date: Int64
    /// Who paid (incoming transactions).
    public var source: TransactionPartner?
    /// Who received (outgoing transactions, refunds).
    public var receiver: TransactionPartner?

    public init(
        id: String,
        amount: Int,
        nanostarAmount: Int? = nil,
        date: Int64,
        source: TransactionPartner? = nil,
        receiver: TransactionPartner? = nil
    ) {
        self.id = id
        self.amount = amount
        self.nanostarAmount = nanostarAmount
        self.date = date
        self.source = source
        self.receiver = receiver
    }

    enum CodingKeys: String, CodingKey {
        case id, amount, date, source, receiver
        case nanostarAmount = "nanostar_amount"
    }
}

/// The other side of a Stars transaction (`TransactionPartner`), flattened: `type` says which fields apply.
public struct TransactionPartner: Codable, Sendable, Equatable {
    /// `user`, `fragment`, `telegram_ads`, `telegram_api`, `other`, ...
    public var type: String
    public var user: TelegramUser?
    /// `invoice_payment` and others, for `type == "user"`.
    public var transactionType: String?
    public var invoicePayload: String?
    /// Seconds, for subscription payments.
    public var subscriptionPeriod: Int?

    public init(
        type: String,
        user: TelegramUser? = nil,
        transactionType: String? = nil,
        invoicePayload: String? = nil,
        subscriptionPeriod: Int? = nil
    ) {
        self.type = type
        self.user = user
        self.transactionType = transactionType
        self.invoicePayload = invoicePayload
        self.subscriptionPeriod = subscriptionPeriod
    }

    enum CodingKeys: String, CodingKey {
        case type, user
        case transactionType = "transaction_type"
        case invoicePayload = "invoice_payload"
        case subscriptionPeriod = "subscription_period"
    }
}

/// The answer of `getStarTransactions`.
public struct StarTransactions: Codable, Sendable, Equatable {
    public var transactions: [StarTransaction]

    public init(transactions: [StarTransaction]) {
        self.transactions = transactions
    }
}
