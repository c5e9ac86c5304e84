/// What one run found, printed as one JSON line by `telebot reconcile`.
public struct ReconcileReport: Sendable, Equatable {
    public var provider: ReconcileProvider
    /// Events (Stripe) or payment and refund transactions (Stars) in the window.
    public var seen: Int
    /// Of those, the ones the ledger lacked and that are now applied (with `--dry-run`: that would be applied).
    public var recovered: Int
    /// Ones that could not be applied (or listed: a failed API page counts one), retried by the next run.
    public var failed: Int
    /// Another instance held the provider's lock: nothing was done.
    public var skipped: Bool

    public init(provider: ReconcileProvider, seen: Int = 0, recovered: Int = 0, failed: Int = 0, skipped: Bool = false) {
        self.provider = provider
        self.seen = seen
        self.recovered = recovered
        self.failed = failed
        self.skipped = skipped
    }

    public var jsonLine: String {
        #"{"provider":"\#(provider.rawValue)","seen":\#(seen),"recovered":\#(recovered),"failed":\#(failed)}"#
    }
}
