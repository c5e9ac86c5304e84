/// An inline keyboard attached to a message (`InlineKeyboardMarkup`): rows of buttons.
public struct InlineKeyboardMarkup: Codable, Sendable, Equatable {
    public var inlineKeyboard: [[InlineKeyboardButton]]

    /// - Parameter inlineKeyboard: Rows of buttons, top to bottom.
    public init(_ inlineKeyboard: [[InlineKeyboardButton]]) {
        self.inlineKeyboard = inlineKeyboard
    }

    enum CodingKeys: String, CodingKey {
        case inlineKeyboard = "inline_keyboard"
    }
}

/// One inline keyboard button (`InlineKeyboardButton`). Exactly one action field must be set; the static
/// constructors make sure of it.
public struct InlineKeyboardButton: Codable, Sendable, Equatable {
    public var text: String
    /// Sent back in a `callback_query` (1–64 bytes).
    public var callbackData: String?
    /// Opened by the client.
    public var url: String?
    /// Opens a Mini App.
    public var webApp: WebAppInfo?
    /// The pay button of an invoice message (must be the first button).
    public var pay: Bool?

    public init(
        text: String,
        callbackData: String? = nil,
        url: String? = nil,
        webApp: WebAppInfo? = nil,
        pay: Bool? = nil
    ) {
        self.text = text
        self.callbackData = callbackData
        self.url = url
        self.webApp = webApp
        self.pay = pay
    }

    /// A button that sends `data` back as a callback query.
    public static func callback(_ text: String, data: String) -> Self { Self(text: text, callbackData: data) }
    /// A button that opens `url`.
    public static func url(_ text: String, url: String) -> Self { Self(text: text, url: url) }
    /// A button that opens the Mini App at `url` (https).
    public static func webApp(_ text: String, url: String) -> Self { Self(text: text, webApp: WebAppInfo(url: url)) }
    /// The pay button of an invoice message.
    public static func pay(_ text: String) -> Self { Self(text: text, pay: true) }

    enum CodingKeys: String, CodingKey {
        case text, url, pay
        case callbackData = "callback_data"
        case webApp = "web_app"
    }
}

/// A Mini App to open (`WebAppInfo`).
public struct WebAppInfo: Codable, Sendable, Equatable {
    public var url: String

    public init(url: String) {
        self.url = url
    }
}
