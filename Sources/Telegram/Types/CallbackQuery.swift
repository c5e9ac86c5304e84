/// A press on an inline keyboard button with `callback_data` (`CallbackQuery`). Answer it with
/// `answerCallbackQuery`, or the user's client shows a spinner.
public struct CallbackQuery: Codable, Sendable, Equatable {
    public var id: String
    public var from: TelegramUser
    /// The message with the button; for old messages Telegram sends only its chat, id and `date` 0.
    public var message: TelegramMessage?
    public var inlineMessageID: String?
    public var chatInstance: String?
    /// The button's `callback_data`.
    public var data: String?

    public init(
        id: String,
        from: TelegramUser,
        message: TelegramMessage? = nil,
        inlineMessageID: String? = nil,
        chatInstance: String? = nil,
        data: String? = nil
    ) {
        self.id = id
        self.from = from
        self.message = message
        self.inlineMessageID = inlineMessageID
        self.chatInstance = chatInstance
        self.data = data
    }

    enum CodingKeys: String, CodingKey {
        case id, from, message, data
        case inlineMessageID = "inline_message_id"
        case chatInstance = "chat_instance"
    }
}
