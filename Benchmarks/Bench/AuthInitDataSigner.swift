import Crypto
import Foundation
import Support

/// Signs Mini App initData as Telegram does (the "WebAppData" HMAC scheme): `secret = HMAC-SHA256("WebAppData",
/// bot token)`, `hash = hex(HMAC-SHA256(secret, data-check-string))`, where the data-check-string is every
/// `key=value` pair but `hash`, sorted, joined by `\n`.
struct AuthInitDataSigner: Sendable {
    private let secret: SymmetricKey

    init(botToken: String) {
        let derived = HMAC<SHA256>.authenticationCode(
            for: Array(botToken.utf8), using: SymmetricKey(data: Array("WebAppData".utf8)))
        secret = SymmetricKey(data: Array(derived))
    }

    /// initData for a Telegram user, `auth_date` = `authDate` (Unix seconds).
    func initData(telegramID: Int64, authDate: Int64) -> String {
        let user =
            "{\"id\":\(telegramID),\"first_name\":\"Bench\",\"last_name\":\"User\",\"username\":\"bench\(telegramID)\",\"language_code\":\"en\",\"allows_write_to_pm\":true}"
        let pairs = [("auth_date", "\(authDate)"), ("query_id", "AAHbench\(telegramID)"), ("user", user)]
        let check = pairs.map { "\($0.0)=\($0.1)" }.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
            .joined(separator: "\n")
        let hash = HMAC<SHA256>.authenticationCode(for: Array(check.utf8), using: secret)
        let hex = Hex.encode(hash)
        return (pairs + [("hash", hex)]).map { "\(Self.encode($0.0))=\(Self.encode($0.1))" }.joined(separator: "&")
    }

    /// Percent-encodes everything but RFC 3986 unreserved characters.
    static func encode(_ text: String) -> String {
        let allowed = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }
}
