import Crypto
import Foundation

/// Checks the `X-Telegram-Bot-Api-Secret-Token` header of webhook requests against `TELEGRAM_WEBHOOK_SECRET`.
///
/// The comparison takes the same time wherever the values differ, and whatever their lengths: both are
/// HMAC-ed with a random per-process key and the fixed-size codes are compared in constant time.
public struct TelegramWebhookAuth: Sendable {
    /// The header Telegram sends the secret in.
    public static let headerName = "X-Telegram-Bot-Api-Secret-Token"

    private let key: SymmetricKey
    private let expected: HashedAuthenticationCode<SHA256>
    private let configured: Bool

    /// - Parameter secret: The `secret_token` given to `setWebhook`. An empty secret accepts nothing.
    public init(secret: String) {
        key = SymmetricKey(size: .bits256)
        expected = HMAC<SHA256>.authenticationCode(for: Data(secret.utf8), using: key)
        configured = !secret.isEmpty
    }

    /// True when `headerValue` equals the configured secret; false when it is missing or differs.
    /// - Parameter headerValue: The header's value, nil when absent.
    public func isValid(_ headerValue: String?) -> Bool {
        let matches = HMAC<SHA256>.isValidAuthenticationCode(
            expected, authenticating: Data((headerValue ?? "").utf8), using: key)
        return matches && configured && headerValue != nil
    }
}
