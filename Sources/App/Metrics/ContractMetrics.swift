import Billing
import CoreMetrics

/// The contract metrics of docs/metrics.md, in one place: names, types, label names (in the order series are written)
/// and the label values known up front. `register(factory:planCodes:)` creates every series it can at zero when
/// the server starts, so dashboards and alerts see them before the first event.
///
/// Modules record through swift-metrics with these exact names (`Counter(label: "webhook_events_total",
/// dimensions: [("provider", "stripe"), ("outcome", "processed")])`); histograms must be `Metrics.Timer`s (a
/// `Recorder` of seconds is accepted too, see `AppMetricsFactory`).
enum ContractMetrics {
    enum Kind: String, Sendable {
        case counter, gauge, histogram
    }

    struct Definition: Sendable {
        let name: String
        let kind: Kind
        /// Label names in contract order.
        let labels: [String]
        /// Label value combinations to create at zero (empty for unlabeled metrics: the one series is created).
        let knownSeries: [[String]]
    }

    static let webhookProviders = ["stripe", "telegram"]
    static let webhookOutcomes = ["processed", "duplicate", "ignored", "rejected", "failed"]

    /// Buckets of `http_request_duration_seconds`: 5 ms to 10 s.
    static let httpDurationBuckets: [Duration] = [
        .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
        .milliseconds(250), .milliseconds(500), .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10),
    ]
    /// Buckets of `miniapp_exchange_latency_seconds` (fixed by the contract).
    static let miniAppExchangeBuckets: [Duration] = [
        .milliseconds(10), .milliseconds(50), .milliseconds(100), .milliseconds(500), .seconds(1),
    ]

    /// Every contract metric.
    static let all: [Definition] = [
        Definition(name: "billing_checkout_started_total", kind: .counter, labels: ["plan"], knownSeries: []),
        Definition(
            name: "billing_payments_total", kind: .counter, labels: ["status"], knownSeries: [["success"], ["failed"]]),
        Definition(
            name: "telegram_payments_total", kind: .counter, labels: ["result"], knownSeries: [["success"], ["failed"]]),
        Definition(name: "telegram_payment_value_total", kind: .counter, labels: ["currency"], knownSeries: [["XTR"]]),
        Definition(name: "miniapp_sessions_total", kind: .counter, labels: [], knownSeries: []),
        Definition(name: "miniapp_exchange_latency_seconds", kind: .histogram, labels: [], knownSeries: []),
        Definition(name: "miniapp_checkout_start_total", kind: .counter, labels: ["plan"], knownSeries: []),
        Definition(name: "miniapp_portal_open_total", kind: .counter, labels: [], knownSeries: []),
        Definition(name: "marketing_posts_total", kind: .counter, labels: [], knownSeries: []),
        Definition(name: "marketing_clicks_total", kind: .counter, labels: ["cta_type"], knownSeries: []),
        Definition(
            name: "webhook_events_total", kind: .counter, labels: ["provider", "outcome"],
            knownSeries: webhookProviders.flatMap { provider in webhookOutcomes.map { [provider, $0] } }),
        Definition(name: "http_requests_total", kind: .counter, labels: ["method", "route", "status"], knownSeries: []),
        Definition(name: "http_request_duration_seconds", kind: .histogram, labels: ["method", "route"], knownSeries: []),
        Definition(name: "db_pool_connections", kind: .gauge, labels: ["state"], knownSeries: [["idle"], ["in_use"]]),
        Definition(name: "billing_payment_value_total", kind: .counter, labels: ["currency"], knownSeries: []),
        Definition(
            name: "reconcile_recovered_total", kind: .counter, labels: ["provider"],
            knownSeries: [["stripe"], ["telegram_stars"]]),
        // Created at 0 by `ReconcileModule` for the providers `serve` reconciles (none when RECONCILE_INTERVAL_SECONDS=0),
        // so the staleness alert does not fire for a provider that is not configured.
        Definition(
            name: "reconcile_last_success_timestamp_seconds", kind: .gauge, labels: ["provider"], knownSeries: []),
        Definition(
            name: "notifications_sent_total", kind: .counter, labels: ["kind", "result"],
            knownSeries: NoticeKind.allCases.filter { $0 != .notice }.flatMap { [[$0.rawValue, "sent"], [$0.rawValue, "failed"]] }),
    ]

    static var names: [String] { all.map(\.name) }

    static let byName: [String: Definition] = Dictionary(uniqueKeysWithValues: all.map { ($0.name, $0) })

    /// Histogram buckets per metric name (for `PrometheusMetricsFactory.durationHistogramBuckets`).
    static let histogramBuckets: [String: [Duration]] = [
        "http_request_duration_seconds": httpDurationBuckets,
        "miniapp_exchange_latency_seconds": miniAppExchangeBuckets,
    ]

    /// Metrics whose series depend on the plan catalog.
    static let perPlan = ["billing_checkout_started_total", "miniapp_checkout_start_total"]

    /// Creates every series known up front at zero: fixed label values from the table, and one series per
    /// plan code for the per-plan counters. Metrics whose label values are open (`http_*`, `marketing_clicks_total`)
    /// appear as `# TYPE` lines until their first event (see `MetricsController`).
    static func register(factory: any MetricsFactory, planCodes: [String]) {
        for definition in all {
            var series = definition.knownSeries
            if perPlan.contains(definition.name) { series = planCodes.map { [$0] } }
            if definition.labels.isEmpty { series = [[]] }
            for values in series {
                let dimensions = Array(zip(definition.labels, values))
                switch definition.kind {
                case .counter: _ = CoreMetrics.Counter(label: definition.name, dimensions: dimensions, factory: factory)
                case .gauge: _ = CoreMetrics.Gauge(label: definition.name, dimensions: dimensions, factory: factory)
                case .histogram: _ = CoreMetrics.Timer(label: definition.name, dimensions: dimensions, factory: factory)
                }
            }
        }
    }

    /// Puts `dimensions` in the contract's label order for known metrics, so that modules writing labels in
    /// another order still update the same series (the Prometheus registry keys series by ordered labels).
    static func canonical(label: String, dimensions: [(String, String)]) -> [(String, String)] {
        guard dimensions.count > 1, let order = byName[label]?.labels else { return dimensions }
        return dimensions.sorted { lhs, rhs in
            (order.firstIndex(of: lhs.0) ?? Int.max) < (order.firstIndex(of: rhs.0) ?? Int.max)
        }
    }
}
