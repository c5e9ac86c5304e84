import CoreMetrics

/// `webhook_events_total{provider,outcome}` counters, created once per provider (not per request).
struct WebhookMetrics: Sendable {
    enum Outcome: String, CaseIterable, Sendable {
        case processed, duplicate, ignored, rejected, failed
    }

    private let counters: [Outcome: CoreMetrics.Counter]

    init(provider: String, factory: any MetricsFactory) {
        var counters: [Outcome: CoreMetrics.Counter] = [:]
        for outcome in Outcome.allCases {
            counters[outcome] = CoreMetrics.Counter(
                label: "webhook_events_total", dimensions: [("provider", provider), ("outcome", outcome.rawValue)],
                factory: factory)
        }
        self.counters = counters
    }

    func record(_ outcome: Outcome) { counters[outcome]?.increment() }
}
