import Metrics
import Support

/// `db_pool_connections{state}` and the checkout wait histogram.
struct PGPoolMetrics: Sendable {
    let idle = Gauge(label: "db_pool_connections", dimensions: [("state", "idle")])
    let inUse = Gauge(label: "db_pool_connections", dimensions: [("state", "in_use")])
    let wait = Metrics.Timer(label: "db_pool_checkout_wait_seconds")

    func record(idle idleCount: Int, inUse inUseCount: Int) {
        idle.record(idleCount)
        inUse.record(inUseCount)
    }

    func recordWait(_ duration: Duration) {
        wait.recordNanoseconds(duration.inNanoseconds)
    }
}
