/// Parameters of `sendInvoice`: an invoice message in a chat.
public struct SendInvoiceRequest: Codable, Sendable, Equatable {
    public var chatID: ChatID
    /// 1–32 characters.
    public var title: String
    /// 1–255 characters.
    public var description: String
    /// 1–128 bytes, not shown to the user; comes back in pre-checkout and payment updates.
    public var payload: String
    /// `""` for Stars.
    public var providerToken: String?
    public var currency: String
    public var prices: [LabeledPrice]
    public var startParameter: String?
    public var photoURL: String?
    public var replyMarkup: InlineKeyboardMarkup?

    public init(
        chatID: ChatID,
        title: String,
        description: String,
        payload: String,
        providerToken: String? = "",
        currency: String,
        prices: [LabeledPrice],
        startParameter: String? = nil,
        photoURL: String? = nil,
        replyMarkup: InlineKeyboardMarkup? = nil
    ) {
        self.chatID = chatID
        self.title = title
        self.description = description
        self.payload = payload
        self.providerToken = providerToken
        self.currency = currency
        self.prices = prices
        self.startParameter = startParameter
        self.photoURL = photoURL
        self.replyMarkup = replyMarkup
    }

    /// A Telegram Stars invoice: currency `XTR`, empty provider token, one price. Title and description are cut
    /// to Telegram's limits.
    /// - Parameters:
    ///   - chatID: Where to send the invoice.
    ///   - title: Product name (cut to 32 characters).
    ///   - description: Product description (cut to 255 characters).
    ///   - payload: The signed payload (`StarsInvoicePayloadSigner.make`).
    ///   - amount: Price in whole Stars.
    ///   - label: The price line's label (the title when nil).
    public static func stars(
        chatID: ChatID,
        title: String,
        description: String,
        payload: String,
        amount: Int,
        label: String? = nil
    ) -> SendInvoiceRequest {
        let title = String(title.prefix(TelegramStars.maxTitleLength))
        return SendInvoiceRequest(
            chatID: chatID,
            title: title,
            description: String(description.prefix(TelegramStars.maxDescriptionLength)),
            payload: payload,
            providerToken: "",
            currency: TelegramStars.currency,
            prices: [LabeledPrice(label: label ?? title, amount: amount)]
        )
    }

    enum CodingKeys: String, CodingKey {
        case title, description, payload, currency, prices
        case chatID = "chat_id"
        case providerToken = "provider_token"
        case startParameter = "start_parameter"
        case photoURL = "photo_url"
        case replyMarkup = "reply_markup"
    }
}

/// Parameters of `createInvoiceLink`: a link that opens an invoice (the Mini App's `openInvoice`).
public struct CreateInvoiceLinkRequest: Codable, Sendable, Equatable {
    public var title: String
    public var description: String
    public var payload: String
    /// `""` for Stars.
    public var providerToken: String?
    public var currency: String
    public var prices: [LabeledPrice]
    /// Seconds between subscription charges, Stars only: 2592000 (30 days); Telegram's test environment also
    /// accepts 60 and 300 (`TelegramStars.allowedSubscriptionPeriods`).
    public var subscriptionPeriod: Int?
    public var photoURL: String?

    public init(
        title: String,
        description: String,
        payload: String,
        providerToken: String? = "",
        currency: String,
        prices: [LabeledPrice],
        subscriptionPeriod: Int? = nil,
        photoURL: String? = nil
    ) {
        self.title = title
        self.description = description
        self.payload = payload
        self.providerToken = providerToken
        self.currency = currency
        self.prices = prices
        self.subscriptionPeriod = subscriptionPeriod
        self.photoURL = photoURL
    }

    /// A Telegram Stars invoice link: currency `XTR`, empty provider token, one price, and for recurring plans a
    /// `subscription_period`. Title and description are cut to Telegram's limits.
    /// - Parameters:
    ///   - title: Product name (cut to 32 characters).
    ///   - description: Product description (cut to 255 characters).
    ///   - payload: The signed payload (`StarsInvoicePayloadSigner.make`).
    ///   - amount: Price in whole Stars (per period for subscriptions).
    ///   - recurring: Bill every `subscriptionPeriod` seconds until cancelled.
    ///   - subscriptionPeriod: Seconds between charges of a recurring plan (30 days unless Telegram's test
    ///     environment is used).
    ///   - label: The price line's label (the title when nil).
    public static func stars(
        title: String,
        description: String,
        payload: String,
        amount: Int,
        recurring: Bool,
        subscriptionPeriod: Int = TelegramStars.subscriptionPeriod,
        label: String? = nil
    ) -> CreateInvoiceLinkRequest {
        let title = String(title.prefix(TelegramStars.maxTitleLength))
        return CreateInvoiceLinkRequest(
            title: title,
            description: String(description.prefix(TelegramStars.maxDescriptionLength)),
            payload: payload,
            providerToken: "",
            currency: TelegramStars.currency,
            prices: [LabeledPrice(label: label ?? title, amount: amount)],
            subscriptionPeriod: recurring ? subscriptionPeriod : nil
        )
    }

    enum CodingKeys: String, CodingKey {
        case title, description, payload, currency, prices
        case providerToken = "provider_token"
        case subscriptionPeriod = "subscription_period"
        case photoURL = "photo_url"
    }
}
