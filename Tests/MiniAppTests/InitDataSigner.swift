import Crypto
import Foundation
import Support

@testable import MiniApp

/// Signs initData the way Telegram (and init-data-py's `sign`) does, for tests that need fresh data.
enum InitDataSigner {
    static func sign(_ pairs: [(String, String)], token: String) -> String {
        let decoded = pairs.map { InitDataPair(key: $0.0, value: $0.1) }
        let secret = HMAC<SHA256>.authenticationCode(
            for: Array(token.utf8), using: SymmetricKey(data: Array("WebAppData".utf8)))
        let hash = HMAC<SHA256>.authenticationCode(
            for: DataCheckString.hmac(decoded), using: SymmetricKey(data: Array(secret)))
        return (pairs + [("hash", Hex.encode(hash))]).map { "\(encode($0.0))=\(encode($0.1))" }
            .joined(separator: "&")
    }

    /// initData for a Telegram user, signed now.
    static func initData(
        telegramID: Int64, username: String? = "user", firstName: String = "First", token: String,
        authDate: Date = Date()
    ) -> String {
        var user: [String: Any] = ["id": telegramID, "first_name": firstName, "language_code": "en"]
        if let username { user["username"] = username }
        let json = (try? JSONSerialization.data(withJSONObject: user, options: [.sortedKeys])) ?? Data()
        return sign(
            [
                ("auth_date", "\(Int64(authDate.timeIntervalSince1970))"), ("query_id", "AAQ"),
                ("user", String(decoding: json, as: UTF8.self)),
            ],
            token: token)
    }

    static func encode(_ string: String) -> String {
        let allowed = CharacterSet(
            charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
        return string.addingPercentEncoding(withAllowedCharacters: allowed) ?? string
    }
}
