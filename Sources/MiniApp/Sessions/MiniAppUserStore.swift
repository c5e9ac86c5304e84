import Billing
import PGClient

/// The user a Mini App login resolves to.
public struct MiniAppUser: Sendable, Equatable, Codable {
    /// `users.id`.
    public let id: Int64
    public let telegramID: Int64
    public let username: String?
    public let firstName: String?

    public init(id: Int64, telegramID: Int64, username: String?, firstName: String?) {
        self.id = id
        self.telegramID = telegramID
        self.username = username
        self.firstName = firstName
    }

    enum CodingKeys: String, CodingKey {
        case id
        case telegramID = "telegram_id"
        case username
        case firstName = "first_name"
    }
}

/// Users by Telegram id, from validated initData.
public enum MiniAppUserStore {
    /// Creates the user on first sight or refreshes the profile, through `UserStore.upsert` (the one user upsert).
    /// initData carries the whole current profile, so a missing `username` or `last_name` means the user has none now
    /// and clears the stored one (`.cleared`); a missing `language_code` keeps the stored one. Values longer than
    /// their column allows are cut to it.
    /// - Parameters:
    ///   - connection: joins the caller's transaction.
    ///   - profile: the `user` object of validated initData.
    public static func upsert(_ connection: PGConnection, profile: WebAppUser) async throws -> MiniAppUser {
        let telegramProfile = TelegramProfile(
            telegramID: profile.id, username: profile.username.map { clip($0, 64) },
            firstName: profile.firstName.map { clip($0, 256) }, lastName: profile.lastName.map { clip($0, 256) },
            languageCode: profile.languageCode.map { clip($0, 35) }, isPremium: profile.isPremium ?? false)
        let user = try await UserStore.upsert(connection, profile: telegramProfile, missingFields: .cleared)
        return MiniAppUser(id: user.id, telegramID: user.telegramID, username: user.username, firstName: user.firstName)
    }

    /// Cuts a value to the column's CHECK length (characters as PostgreSQL counts them).
    static func clip(_ value: String, _ limit: Int) -> String {
        let scalars = value.unicodeScalars
        guard scalars.count > limit else { return value }
        var out = String.UnicodeScalarView()
        out.append(contentsOf: scalars.prefix(limit))
        return String(out)
    }
}
