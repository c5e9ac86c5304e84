import Crypto
import Foundation
import Support

/// Makes and checks the `payload` of Stars invoices, so that a forged, altered, stale or someone else's invoice
/// is refused at pre-checkout without a database lookup.
///
/// Format (at most 113 bytes for a 64-byte plan code, within Telegram's 128):
/// `1:<plan>:<telegram user id, base 36>:<issued at, unix seconds, base 36>:<nonce>:<tag>`, where the nonce is 4
/// random bytes and the tag the first 12 bytes of HMAC-SHA256 over everything before the last `:`, both base64url.
/// The key is derived from the bot token with HKDF (fixed salt and label), so it needs no configuration of its
/// own, is the same on every server instance, and changes when the token is revoked.
public struct StarsInvoicePayloadSigner: Sendable {
    /// Longest plan code, in UTF-8 bytes.
    public static let maxPlanCodeBytes = 64
    /// Future `issued at` values tolerated (clock skew between server instances).
    public static let clockSkew: TimeInterval = 300

    private static let version = "1"
    private static let tagBytes = 12
    private let key: SymmetricKey

    /// - Parameter botToken: The bot token the key is derived from.
    public init(botToken: String) {
        key = HKDF<SHA256>.deriveKey(
            inputKeyMaterial: SymmetricKey(data: Data(botToken.utf8)),
            salt: Data("telebot".utf8),
            info: Data("stars-invoice-payload/v1".utf8),
            outputByteCount: 32
        )
    }

    /// - Parameter key: A key of its own (tests, or a deliberate rotation).
    public init(key: SymmetricKey) {
        self.key = key
    }

    /// Makes a payload for `telegramUserID` buying `plan`.
    /// - Parameters:
    ///   - plan: The plan code (1–64 UTF-8 bytes; may contain any character).
    ///   - telegramUserID: The buyer's Telegram user id.
    ///   - now: The issue time.
    /// - Returns: The payload, at most 128 bytes.
    /// - Throws: `StarsInvoicePayloadError.invalidPlanCode`.
    public func make(plan: String, telegramUserID: Int64, now: Date = Date()) throws(StarsInvoicePayloadError)
        -> String
    {
        guard !plan.isEmpty, plan.utf8.count <= Self.maxPlanCodeBytes else { throw .invalidPlanCode }
        var nonce = [UInt8](repeating: 0, count: 4)
        var generator = SystemRandomNumberGenerator()
        for index in nonce.indices { nonce[index] = generator.next() }
        let issuedAt = Int64(now.timeIntervalSince1970.rounded(.down))
        let message = [
            Self.version, plan, String(telegramUserID, radix: 36), String(issuedAt, radix: 36),
            Base64URL.encode(nonce),
        ].joined(separator: ":")
        return message + ":" + tag(message)
    }

    /// Checks a payload and returns what it says.
    /// - Parameters:
    ///   - payload: The `invoice_payload` of a pre-checkout query or payment.
    ///   - expectedTelegramUserID: The paying user (`from.id`); nil skips the check.
    ///   - now: The current time.
    ///   - maxAge: Oldest acceptable payload in seconds; nil skips the check. Use nil for `successful_payment`:
    ///     subscription renewals carry the original payload, months old.
    /// - Returns: The payload's plan, user, issue time and nonce.
    /// - Throws: `StarsInvoicePayloadError`: `.malformed`, `.forged`, `.wrongUser` or `.stale`, checked in that
    ///   order (nothing but the shape is trusted before the tag matches).
    public func verify(
        _ payload: String,
        expectedTelegramUserID: Int64?,
        now: Date = Date(),
        maxAge: TimeInterval?
    ) throws(StarsInvoicePayloadError) -> StarsInvoicePayload {
        guard payload.utf8.count <= TelegramStars.maxPayloadBytes,
            let lastColon = payload.lastIndex(of: ":")
        else { throw .malformed }
        let message = String(payload[..<lastColon])
        let fields = message.split(separator: ":", omittingEmptySubsequences: false)
        guard fields.count >= 5, fields[0] == Self.version else { throw .malformed }
        guard ConstantTime.equals(tag(message).utf8, payload[payload.index(after: lastColon)...].utf8) else {
            throw .forged
        }
        let plan = fields[1..<(fields.count - 3)].joined(separator: ":")
        guard !plan.isEmpty,
            let userID = Int64(fields[fields.count - 3], radix: 36),
            let issued = Int64(fields[fields.count - 2], radix: 36)
        else { throw .malformed }
        if let expectedTelegramUserID, expectedTelegramUserID != userID { throw .wrongUser }
        let issuedAt = Date(timeIntervalSince1970: TimeInterval(issued))
        if let maxAge {
            let age = now.timeIntervalSince(issuedAt)
            guard age <= maxAge, age >= -Self.clockSkew else { throw .stale }
        }
        return StarsInvoicePayload(
            plan: plan,
            telegramUserID: userID,
            issuedAt: issuedAt,
            nonce: String(fields[fields.count - 1])
        )
    }

    private func tag(_ message: String) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Data(message.utf8), using: key)
        return Base64URL.encode(mac.prefix(Self.tagBytes))
    }
}
