import HTTPTypes
import Telegram

/// A request header the routes read that swift-http-types has no constant for. `HTTPField.Name(_:)` is failable, so
/// a constant built from it would need a trap or a fallback (which once read the wrong header); this matches fields
/// by their lowercase name instead and cannot fail.
struct RequestHeader: Sendable {
    /// The name as HTTP/2 and swift-http-types compare it: lowercase.
    let canonicalName: String

    init(_ name: String) {
        canonicalName = name.lowercased()
    }

    /// The header's value, as `HTTPFields`' subscript gives it: several fields of the name joined with ", ".
    func value(in fields: HTTPFields) -> String? {
        let values = fields.lazy.filter { $0.name.canonicalName == canonicalName }.map(\.value)
        return values.isEmpty ? nil : values.joined(separator: ", ")
    }

    /// `Stripe-Signature` of Stripe webhooks.
    static let stripeSignature = RequestHeader("Stripe-Signature")
    /// `Idempotency-Key` of checkout and admin grant requests.
    static let idempotencyKey = RequestHeader("Idempotency-Key")
    /// `X-Telegram-Bot-Api-Secret-Token` of Telegram webhooks.
    static let telegramSecretToken = RequestHeader(TelegramWebhookAuth.headerName)
}
