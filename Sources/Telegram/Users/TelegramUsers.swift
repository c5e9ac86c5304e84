import Billing
import PGClient

extension TelegramUser {
    /// The user as the user store keeps them.
    public var profile: TelegramProfile {
        TelegramProfile(
            telegramID: id, username: username, firstName: firstName, lastName: lastName, languageCode: languageCode,
            isPremium: isPremium)
    }
}

/// Users met through Telegram updates, provisioned in the caller's transaction, so that modules above Telegram
/// (Marketing) need not reach into Billing's user store.
public enum TelegramUsers {
    /// Creates the user on first sight and returns `users.id`.
    /// - Parameters:
    ///   - connection: the caller's connection or transaction.
    ///   - telegramID: the Telegram user id.
    ///   - user: `from` of the update, to create or refresh the user's names; nil only ensures the user exists.
    public static func provision(_ connection: PGConnection, telegramID: Int64, from user: TelegramUser?) async throws
        -> Int64
    {
        guard var profile = user?.profile else { return try await UserStore.ensure(connection, telegramID: telegramID) }
        profile.telegramID = telegramID
        return try await UserStore.upsert(connection, profile: profile).id
    }
}
