import Foundation

/// An incoming update (`Update`). Exactly one optional field is set for the kinds the server knows; updates of
/// other kinds decode with all of them nil (`content == .unknown`), and unknown fields are ignored.
public struct TelegramUpdate: Codable, Sendable, Equatable {
    /// Unique per bot; not monotonic after long idle periods, so deduplicate by equality only.
    public var updateID: Int64
    public var message: TelegramMessage?
    public var editedMessage: TelegramMessage?
    public var channelPost: TelegramMessage?
    public var callbackQuery: CallbackQuery?
    public var preCheckoutQuery: PreCheckoutQuery?

    public init(
        updateID: Int64,
        message: TelegramMessage? = nil,
        editedMessage: TelegramMessage? = nil,
        channelPost: TelegramMessage? = nil,
        callbackQuery: CallbackQuery? = nil,
        preCheckoutQuery: PreCheckoutQuery? = nil
    ) {
        self.updateID = updateID
        self.message = message
        self.editedMessage = editedMessage
        self.channelPost = channelPost
        self.callbackQuery = callbackQuery
        self.preCheckoutQuery = preCheckoutQuery
    }

    /// What an update carries, for `switch`.
    public enum Content: Sendable, Equatable {
        case message(TelegramMessage)
        case editedMessage(TelegramMessage)
        case channelPost(TelegramMessage)
        case callbackQuery(CallbackQuery)
        case preCheckoutQuery(PreCheckoutQuery)
        /// A kind the server does not handle (poll, chat_member, ...).
        case unknown
    }

    /// The update's content.
    public var content: Content {
        if let message { return .message(message) }
        if let preCheckoutQuery { return .preCheckoutQuery(preCheckoutQuery) }
        if let callbackQuery { return .callbackQuery(callbackQuery) }
        if let editedMessage { return .editedMessage(editedMessage) }
        if let channelPost { return .channelPost(channelPost) }
        return .unknown
    }

    /// Decodes an update from a webhook body.
    /// - Throws: `DecodingError` when the body is not an update (no `update_id`, or a known kind that is
    ///   malformed).
    public static func decode(from body: Data) throws -> TelegramUpdate {
        try JSONDecoder().decode(TelegramUpdate.self, from: body)
    }

    /// The `update_id` of a body, even when the rest does not decode (to record and skip a bad update).
    public static func updateID(in body: Data) -> Int64? {
        struct Head: Decodable {
            var updateID: Int64
            enum CodingKeys: String, CodingKey { case updateID = "update_id" }
        }
        return try? JSONDecoder().decode(Head.self, from: body).updateID
    }

    enum CodingKeys: String, CodingKey {
        case updateID = "update_id"
        case message
        case editedMessage = "edited_message"
        case channelPost = "channel_post"
        case callbackQuery = "callback_query"
        case preCheckoutQuery = "pre_checkout_query"
    }
}
