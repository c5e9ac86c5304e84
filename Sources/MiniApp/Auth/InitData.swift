import Foundation

/// initData that passed validation: every field as received (decoded, never re-serialised) plus the ones the
/// server uses, typed.
public struct InitData: Sendable, Equatable {
    /// Every pair in the order received, `hash` and `signature` included.
    public let pairs: [InitDataPair]
    /// `auth_date`, seconds since 1970.
    public let authDate: Int64
    /// The user who opened the Mini App; nil when Telegram sent none (e.g. the Login Widget's flat fields).
    public let user: WebAppUser?
    public let queryID: String?
    public let startParam: String?
    public let chatType: String?
    public let chatInstance: String?
    /// The Ed25519 `signature` field (base64url), when present.
    public let signature: String?

    init(pairs: [InitDataPair], authDate: Int64, user: WebAppUser?) {
        self.pairs = pairs
        self.authDate = authDate
        self.user = user
        let fields = Dictionary(pairs.map { ($0.key, $0.value) }, uniquingKeysWith: { first, _ in first })
        self.queryID = fields["query_id"]
        self.startParam = fields["start_param"]
        self.chatType = fields["chat_type"]
        self.chatInstance = fields["chat_instance"]
        self.signature = fields["signature"]
    }

    /// The raw value of any field (known or not), as Telegram signed it.
    public subscript(key: String) -> String? {
        pairs.first { $0.key == key }?.value
    }

    /// `auth_date` as a date.
    public var authDateValue: Date { Date(timeIntervalSince1970: TimeInterval(authDate)) }
}
