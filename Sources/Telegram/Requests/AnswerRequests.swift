/// Parameters of `answerPreCheckoutQuery`.
public struct AnswerPreCheckoutQueryRequest: Codable, Sendable, Equatable {
    public var preCheckoutQueryID: String
    /// True to let the payment proceed.
    public var ok: Bool
    /// Shown to the buyer when `ok` is false (required then).
    public var errorMessage: String?

    public init(preCheckoutQueryID: String, ok: Bool, errorMessage: String? = nil) {
        self.preCheckoutQueryID = preCheckoutQueryID
        self.ok = ok
        self.errorMessage = errorMessage
    }

    /// Accept the payment.
    public static func accept(_ preCheckoutQueryID: String) -> Self {
        Self(preCheckoutQueryID: preCheckoutQueryID, ok: true)
    }

    /// Refuse the payment with a message for the buyer.
    public static func reject(_ preCheckoutQueryID: String, message: String) -> Self {
        Self(preCheckoutQueryID: preCheckoutQueryID, ok: false, errorMessage: message)
    }

    enum CodingKeys: String, CodingKey {
        case ok
        case preCheckoutQueryID = "pre_checkout_query_id"
        case errorMessage = "error_message"
    }
}

/// Parameters of `answerCallbackQuery`.
public struct AnswerCallbackQueryRequest: Codable, Sendable, Equatable {
    public var callbackQueryID: String
    /// A notification for the user (0–200 characters).
    public var text: String?
    /// Show an alert instead of a notification at the top.
    public var showAlert: Bool?
    /// A URL for the client to open (game or `t.me/<bot>?start=` links).
    public var url: String?
    /// Seconds the client may cache the answer.
    public var cacheTime: Int?

    public init(
        callbackQueryID: String,
        text: String? = nil,
        showAlert: Bool? = nil,
        url: String? = nil,
        cacheTime: Int? = nil
    ) {
        self.callbackQueryID = callbackQueryID
        self.text = text
        self.showAlert = showAlert
        self.url = url
        self.cacheTime = cacheTime
    }

    enum CodingKeys: String, CodingKey {
        case text, url
        case callbackQueryID = "callback_query_id"
        case showAlert = "show_alert"
        case cacheTime = "cache_time"
    }
}
