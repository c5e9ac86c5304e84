import CoreMetrics

/// `webhook_events_total{provider,outcome}` counters, created once per provider (not per request).
public struct WebhookMetrics: Sendable {
    public enum Outcome: String, CaseIterable, Sendable {
        case processed, duplicate, ignored, rejected, failed
    }

    private let counters: [Outcome: CoreMetrics.Counter]

    public init(provider: String, factory: any MetricsFactory) {
        var counters: [Outcome: CoreMetrics.Counter] = [:]
        for outcome in Outcome.allCases {
            counters[outcome] = CoreMetrics.Counter(
                label: "webhook_events_total", dimensions: [("provider", provider), ("outcome", outcome.rawValue)],
                factory: factory)
        }
        self.counters = counters
    }

    public func record(_ outcome: Outcome) { counters[outcome]?.increment() }
}
