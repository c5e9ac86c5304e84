/// Parameters of `refundStarPayment`.
public struct RefundStarPaymentRequest: Codable, Sendable, Equatable {
    /// The buyer's Telegram user id.
    public var userID: Int64
    public var telegramPaymentChargeID: String

    public init(userID: Int64, telegramPaymentChargeID: String) {
        self.userID = userID
        self.telegramPaymentChargeID = telegramPaymentChargeID
    }

    enum CodingKeys: String, CodingKey {
        case userID = "user_id"
        case telegramPaymentChargeID = "telegram_payment_charge_id"
    }
}

/// Parameters of `editUserStarSubscription`: cancel or re-enable the renewal of a Stars subscription.
public struct EditUserStarSubscriptionRequest: Codable, Sendable, Equatable {
    public var userID: Int64
    /// The charge id of the subscription's first payment.
    public var telegramPaymentChargeID: String
    /// True cancels the renewal (the paid period still runs out); false re-enables it.
    public var isCanceled: Bool

    public init(userID: Int64, telegramPaymentChargeID: String, isCanceled: Bool) {
        self.userID = userID
        self.telegramPaymentChargeID = telegramPaymentChargeID
        self.isCanceled = isCanceled
    }

    enum CodingKeys: String, CodingKey {
        case userID = "user_id"
        case telegramPaymentChargeID = "telegram_payment_charge_id"
        case isCanceled = "is_canceled"
    }
}

/// Parameters of `getStarTransactions`.
public struct GetStarTransactionsRequest: Codable, Sendable, Equatable {
    /// Transactions to skip.
    public var offset: Int?
    /// 1–100, 100 by default.
    public var limit: Int?

    public init(offset: Int? = nil, limit: Int? = nil) {
        self.offset = offset
        self.limit = limit
    }
}
