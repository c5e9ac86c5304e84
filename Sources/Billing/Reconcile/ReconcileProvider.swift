/// The providers reconciliation asks for what their webhooks may have missed.
public enum ReconcileProvider: String, Sendable, CaseIterable {
    case stripe
    case telegramStars = "telegram_stars"

    /// Advisory lock key: one run per provider at a time, across instances.
    public var lockKey: Int64 {
        switch self {
        case .stripe: 0x7265_636F_6E01  // "recon" 1
        case .telegramStars: 0x7265_636F_6E02
        }
    }
}
