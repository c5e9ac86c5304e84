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
    /// Creates the user on first sight or refreshes the profile; one row per Telegram id even under concurrent
    /// first logins (`ON CONFLICT (telegram_user_id) DO UPDATE` makes the losers wait for the winner's row and
    /// update it). initData carries the whole current profile, so a missing `username` or `last_name` means the
    /// user has none now and clears the stored one; a missing `language_code` keeps the stored one.
    /// - Parameters:
    ///   - connection: joins the caller's transaction.
    ///   - profile: the `user` object of validated initData.
    public static func upsert(_ connection: PGConnection, profile: WebAppUser) async throws -> MiniAppUser {
        let username = profile.username.map { clip($0, 64) }
        let firstName = profile.firstName.map { clip($0, 256) }
        let lastName = profile.lastName.map { clip($0, 256) }
        let languageCode = profile.languageCode.map { clip($0, 35) }
        let isPremium = profile.isPremium ?? false
        let result = try await connection.query(
            """
            INSERT INTO users AS u (telegram_user_id, username, first_name, last_name, language_code, is_premium)
            VALUES (\(profile.id), \(username), \(firstName), \(lastName), \(languageCode), \(isPremium))
            ON CONFLICT (telegram_user_id) DO UPDATE SET
                username = EXCLUDED.username,
                first_name = EXCLUDED.first_name,
                last_name = EXCLUDED.last_name,
                language_code = coalesce(EXCLUDED.language_code, u.language_code),
                is_premium = EXCLUDED.is_premium,
                updated_at = now()
            RETURNING id, telegram_user_id, username, first_name
            """)
        guard let row = result.first else {
            // ON CONFLICT DO UPDATE always returns the row; this is unreachable short of a server bug.
            throw PGError(kind: .usage, message: "user upsert returned no row")
        }
        return MiniAppUser(
            id: try row.decode("id"), telegramID: try row.decode("telegram_user_id"),
            username: try row.decode("username"), firstName: try row.decode("first_name"))
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
