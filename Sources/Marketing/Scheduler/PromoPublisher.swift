/// Sends a promo post to a chat. `BotAPIPromoPublisher` does it through the Bot API's `sendMessage`.
///
/// Implementations make ONE attempt and report why it failed with `PromoPublishError`; the scheduler owns the
/// retries, because only it knows whether a repeat could post twice.
public protocol PromoPublisher: Sendable {
    /// Posts `text` with an inline keyboard (rows of buttons) and returns Telegram's message id.
    func publish(chatID: String, text: String, buttons: [[PromoButton]]) async throws -> Int64
}
