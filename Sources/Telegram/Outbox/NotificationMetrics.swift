import Billing
import Metrics

/// `notifications_sent_total{kind,result}`: one increment per send attempt, `sent` or `failed` (a 403 from a user
/// who blocked the bot counts as `failed` too).
public struct NotificationMetrics: Sendable {
    let factory: (any MetricsFactory)?

    /// - Parameter factory: where to record (nil: the bootstrapped `MetricsSystem`).
    public init(factory: (any MetricsFactory)? = nil) {
        self.factory = factory
    }

    func record(kind: NoticeKind, sent: Bool) {
        let dimensions = [("kind", kind.rawValue), ("result", sent ? "sent" : "failed")]
        if let factory {
            Counter(label: "notifications_sent_total", dimensions: dimensions, factory: factory).increment()
        } else {
            Counter(label: "notifications_sent_total", dimensions: dimensions).increment()
        }
    }
}
