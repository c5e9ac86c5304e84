import Metrics
import Synchronization

/// The counters of one metric that differ in one label (`billing_payment_value_total{currency}`), each made on first
/// use and reused, so recording never allocates a handle.
public final class CounterFamily: Sendable {
    let label: String
    let dimension: String
    let factory: (any MetricsFactory)?
    private let counters = Mutex<[String: Counter]>([:])

    public init(label: String, dimension: String, factory: (any MetricsFactory)? = nil) {
        self.label = label
        self.dimension = dimension
        self.factory = factory
    }

    /// The counter whose label `dimension` is `value`.
    public func counter(_ value: String) -> Counter {
        if let found = counters.withLock({ $0[value] }) { return found }
        let dimensions = [(dimension, value)]
        let made =
            factory.map { Counter(label: label, dimensions: dimensions, factory: $0) }
            ?? Counter(label: label, dimensions: dimensions)
        return counters.withLock { counters in
            if let found = counters[value] { return found }
            counters[value] = made
            return made
        }
    }
}
