/// Parameters of `sendMessage`.
public struct SendMessageRequest: Codable, Sendable, Equatable {
    public var chatID: ChatID
    /// 1–4096 characters after entity parsing.
    public var text: String
    public var parseMode: ParseMode?
    public var replyMarkup: InlineKeyboardMarkup?
    public var linkPreviewOptions: LinkPreviewOptions?
    public var disableNotification: Bool?
    public var protectContent: Bool?

    /// - Parameters:
    ///   - chatID: Where to send.
    ///   - text: The text.
    ///   - parseMode: `HTML` or `MarkdownV2` formatting, plain text when nil.
    ///   - replyMarkup: An inline keyboard.
    ///   - linkPreviewOptions: Link preview settings.
    ///   - disableNotification: Send silently.
    ///   - protectContent: Forbid forwarding and saving.
    public init(
        chatID: ChatID,
        text: String,
        parseMode: ParseMode? = nil,
        replyMarkup: InlineKeyboardMarkup? = nil,
        linkPreviewOptions: LinkPreviewOptions? = nil,
        disableNotification: Bool? = nil,
        protectContent: Bool? = nil
    ) {
        self.chatID = chatID
        self.text = text
        self.parseMode = parseMode
        self.replyMarkup = replyMarkup
        self.linkPreviewOptions = linkPreviewOptions
        self.disableNotification = disableNotification
        self.protectContent = protectContent
    }

    enum CodingKeys: String, CodingKey {
        case text
        case chatID = "chat_id"
        case parseMode = "parse_mode"
        case replyMarkup = "reply_markup"
        case linkPreviewOptions = "link_preview_options"
        case disableNotification = "disable_notification"
        case protectContent = "protect_content"
    }
}

/// Text formatting of a message.
public enum ParseMode: String, Codable, Sendable {
    case html = "HTML"
    case markdownV2 = "MarkdownV2"
}

/// Link preview settings (`LinkPreviewOptions`).
public struct LinkPreviewOptions: Codable, Sendable, Equatable {
    public var isDisabled: Bool?

    public init(isDisabled: Bool? = nil) {
        self.isDisabled = isDisabled
    }

    enum CodingKeys: String, CodingKey {
        case isDisabled = "is_disabled"
    }
}
