import Metrics
import Support

/// `db_pool_connections{state}` and the checkout wait histogram, created once per factory: the pool records into
/// these handles as it works (`reportMetrics(to:)` points them at a registry; by default, the global system's).
struct PGPoolMetrics: Sendable {
    let idle: Gauge
    let inUse: Gauge
    let wait: Metrics.Timer

    init(factory: (any MetricsFactory)? = nil) {
        if let factory {
            idle = Gauge(label: "db_pool_connections", dimensions: [("state", "idle")], factory: factory)
            inUse = Gauge(label: "db_pool_connections", dimensions: [("state", "in_use")], factory: factory)
            wait = Metrics.Timer(label: "db_pool_checkout_wait_seconds", factory: factory)
        } else {
            idle = Gauge(label: "db_pool_connections", dimensions: [("state", "idle")])
            inUse = Gauge(label: "db_pool_connections", dimensions: [("state", "in_use")])
            wait = Metrics.Timer(label: "db_pool_checkout_wait_seconds")
        }
    }

    func record(idle idleCount: Int, inUse inUseCount: Int) {
        idle.record(idleCount)
        inUse.record(inUseCount)
    }

    func recordWait(_ duration: Duration) {
        wait.recordNanoseconds(duration.inNanoseconds)
    }
}
