import Foundation

/// The claims of a Mini App access token (contract: `sub` user id as a string, `tg` Telegram id, `jti`, `iat`,
/// `exp`; times in whole seconds since 1970).
public struct SessionClaims: Sendable, Equatable {
    /// `users.id` (`sub`).
    public let userID: Int64
    /// The Telegram user id (`tg`).
    public let telegramID: Int64
    /// The session id (`jti`), the primary key of `miniapp_sessions`.
    public let jti: UUID
    /// `iat`, seconds since 1970.
    public let issuedAt: Int64
    /// `exp`, seconds since 1970.
    public let expiresAt: Int64

    public init(userID: Int64, telegramID: Int64, jti: UUID, issuedAt: Int64, expiresAt: Int64) {
        self.userID = userID
        self.telegramID = telegramID
        self.jti = jti
        self.issuedAt = issuedAt
        self.expiresAt = expiresAt
    }

    /// `exp` as a date.
    public var expiresAtDate: Date { Date(timeIntervalSince1970: TimeInterval(expiresAt)) }
}
