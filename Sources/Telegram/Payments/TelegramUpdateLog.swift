import PGClient

/// `telegram_updates`: the update id is inserted in the transaction that applies the update's effects, so a
/// redelivered update (Telegram resends after ~60 s without a 2xx) changes nothing the second time.
public enum TelegramUpdateLog {
    /// Records the update; false when it was already handled.
    public static func claim(_ tx: PGConnection, updateID: Int64, kind: String) async throws -> Bool {
        try await tx.execute(
            """
            INSERT INTO telegram_updates (update_id, kind) VALUES (\(updateID), \(kind))
            ON CONFLICT (update_id) DO NOTHING
            """) == 1
    }
}
