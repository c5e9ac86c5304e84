import HTTPTypes
import Telegram

/// Header names the routes read, each built once. `HTTPField.Name(_:)` is failable only for text that is not a
/// valid token; these literals are valid, so the precondition documents that and can fire only on a typo here, when
/// `buildRouter` makes them at start-up (never on a request, never as a silent read of another header).
extension HTTPField.Name {
    /// `Stripe-Signature` of Stripe webhooks.
    static let stripeSignature = constant("Stripe-Signature")
    /// `Idempotency-Key` of checkout and admin grant requests.
    static let idempotencyKey = constant("Idempotency-Key")
    /// `X-Telegram-Bot-Api-Secret-Token` of Telegram webhooks.
    static let telegramSecretToken = constant(TelegramWebhookAuth.headerName)

    private static func constant(_ name: String) -> HTTPField.Name {
        guard let field = HTTPField.Name(name) else { preconditionFailure("not a valid HTTP header name: \(name)") }
        return field
    }
}
