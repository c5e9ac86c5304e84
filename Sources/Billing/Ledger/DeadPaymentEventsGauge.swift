import Logging
import Metrics
import PGClient

/// `payment_events_dead{provider}`: how many ledger events gave up (`dead`) and wait for an operator. Refreshed
/// from the table (not counted in memory), so every instance reports the same truth and the "dead events > 0"
/// alert holds across restarts. The count reads `payment_events_status_idx`: cheap while dead events are few.
public struct DeadPaymentEventsGauge: Sendable {
    let pool: PGPool
    let gauges: [PaymentProvider: Gauge]

    public init(pool: PGPool, metricsFactory: (any MetricsFactory)? = nil) {
        self.pool = pool
        var gauges: [PaymentProvider: Gauge] = [:]
        for provider in PaymentProvider.allCases {
            let dimensions = [("provider", provider.rawValue)]
            gauges[provider] =
                metricsFactory.map { Gauge(label: "payment_events_dead", dimensions: dimensions, factory: $0) }
                ?? Gauge(label: "payment_events_dead", dimensions: dimensions)
        }
        self.gauges = gauges
    }

    /// Reads the counts and sets the gauges (zero for a provider without dead events).
    public func refresh() async throws {
        let counts = try await pool.withConnection { connection in
            try await connection.query(
                "SELECT provider, count(*) AS n FROM payment_events WHERE status = 'dead' GROUP BY provider"
            ).reduce(into: [String: Int64]()) { counts, row in
                counts[try row.decode("provider", as: String.self)] = try row.decode("n", as: Int64.self)
            }
        }
        for (provider, gauge) in gauges { gauge.record(counts[provider.rawValue] ?? 0) }
    }
}
