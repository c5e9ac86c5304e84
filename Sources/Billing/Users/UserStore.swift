import PGClient

/// Users by Telegram id. Functions take a connection so they join the caller's transaction.
public enum UserStore {
    static let columns = "id, telegram_user_id, username, first_name, last_name, language_code, is_premium"

    /// What a profile's absent fields mean for the stored ones.
    public enum MissingFields: Sendable {
        /// Telegram did not send them (a payment's or a click's `from`): the stored values stay.
        case kept
        /// The profile is complete (validated initData carries the user's whole current profile): an absent
        /// `username`, `first_name` or `last_name` means the user has none now and clears the stored one. An absent
        /// `language_code` keeps the stored one either way (clients often leave it out).
        case cleared
    }

    /// Creates the user on first sight or refreshes their profile; one row per Telegram id even under concurrent
    /// first requests (`ON CONFLICT` on `users_telegram_user_id_key`: the losers wait for the winner's row and update
    /// it). The one user upsert: Billing, Telegram, Marketing and the Mini App login all come through here.
    public static func upsert(
        _ connection: PGConnection, profile: TelegramProfile, missingFields: MissingFields
    ) async throws -> User {
        let clears = missingFields == .cleared
        let result = try await connection.query(
            """
            INSERT INTO users AS u (telegram_user_id, username, first_name, last_name, language_code, is_premium)
            VALUES (\(profile.telegramID), \(profile.username), \(profile.firstName), \(profile.lastName),
                    \(profile.languageCode), coalesce(\(profile.isPremium), false))
            ON CONFLICT (telegram_user_id) DO UPDATE SET
                username = CASE WHEN \(clears) THEN EXCLUDED.username ELSE coalesce(EXCLUDED.username, u.username) END,
                first_name = CASE WHEN \(clears) THEN EXCLUDED.first_name ELSE coalesce(EXCLUDED.first_name, u.first_name) END,
                last_name = CASE WHEN \(clears) THEN EXCLUDED.last_name ELSE coalesce(EXCLUDED.last_name, u.last_name) END,
                language_code = coalesce(EXCLUDED.language_code, u.language_code),
                is_premium = CASE WHEN \(clears) THEN EXCLUDED.is_premium ELSE coalesce(\(profile.isPremium), u.is_premium) END,
                updated_at = now()
            RETURNING \(unsafeRaw: columns)
            """)
        guard let row = result.first else { throw BillingError.userNotFound }
        return try decode(row)
    }

    /// `upsert` of a partial profile (`.kept`): what payments, clicks and bot commands see of a user.
    public static func upsert(_ connection: PGConnection, profile: TelegramProfile) async throws -> User {
        try await upsert(connection, profile: profile, missingFields: .kept)
    }

    /// Ensures a row exists for a Telegram id without touching an existing profile; returns the user id.
    public static func ensure(_ connection: PGConnection, telegramID: Int64) async throws -> Int64 {
        let result = try await connection.query(
            """
            WITH inserted AS (
                INSERT INTO users (telegram_user_id) VALUES (\(telegramID))
                ON CONFLICT (telegram_user_id) DO NOTHING RETURNING id
            )
            SELECT id FROM inserted UNION ALL SELECT id FROM users WHERE telegram_user_id = \(telegramID) LIMIT 1
            """)
        guard let id = try result.first?.decode("id", as: Int64.self) else {
            // Lost a race with a concurrent insert that is not visible yet in this snapshot: read again.
            return try await upsert(connection, profile: TelegramProfile(telegramID: telegramID)).id
        }
        return id
    }

    public static func find(_ connection: PGConnection, id: Int64) async throws -> User? {
        try await connection.query("SELECT \(unsafeRaw: columns) FROM users WHERE id = \(id)").first.map(decode)
    }

    public static func find(_ connection: PGConnection, telegramID: Int64) async throws -> User? {
        try await connection.query("SELECT \(unsafeRaw: columns) FROM users WHERE telegram_user_id = \(telegramID)")
            .first.map(decode)
    }

    static func decode(_ row: PGRow) throws -> User {
        User(
            id: try row.decode("id"),
            telegramID: try row.decode("telegram_user_id"),
            username: try row.decode("username"),
            firstName: try row.decode("first_name"),
            lastName: try row.decode("last_name"),
            languageCode: try row.decode("language_code"),
            isPremium: try row.decode("is_premium"))
    }
}
