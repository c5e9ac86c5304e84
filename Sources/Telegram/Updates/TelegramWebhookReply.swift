/// What the Telegram webhook answers: an empty 200, or a Bot API method in the body (Telegram executes it, so the
/// pre-checkout answer needs no second HTTP call and cannot be lost after we commit).
public enum TelegramWebhookReply: Sendable {
    case empty
    case answerPreCheckout(AnswerPreCheckoutQueryRequest)
}
