import PGClient

/// What a module above Telegram does with updates the dispatcher does not own (Marketing's CTA capture), without
/// Telegram knowing about it: the hook looks at a callback query or a `/start` command before the update's
/// transaction and may hand back a `TelegramUpdateCapture` that the dispatcher runs inside it.
public protocol TelegramUpdateHook: Sendable {
    /// A callback query whose data is not one of the dispatcher's own buttons. nil: the hook has nothing to record.
    func capture(callbackQuery query: CallbackQuery) -> TelegramUpdateCapture?

    /// A `/start` command (`text` is the whole message text). nil: the hook has nothing to record.
    func capture(startCommand text: String, from user: TelegramUser) -> TelegramUpdateCapture?
}

/// Work a `TelegramUpdateHook` adds to one update: written in the update's transaction (so a redelivery writes
/// nothing twice), then told once the transaction committed.
public struct TelegramUpdateCapture: Sendable {
    /// Runs inside the update's transaction, after the update was claimed.
    public var record: @Sendable (PGConnection) async throws -> Void
    /// Runs after the commit (metrics).
    public var committed: @Sendable () -> Void

    public init(
        record: @escaping @Sendable (PGConnection) async throws -> Void, committed: @escaping @Sendable () -> Void = {}
    ) {
        self.record = record
        self.committed = committed
    }
}
