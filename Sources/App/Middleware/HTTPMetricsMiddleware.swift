import CoreMetrics
import Hummingbird
import PGClient
import Support
import Synchronization

/// `http_requests_total{method,route,status}` and `http_request_duration_seconds{method,route}`, labelled with
/// the route template (`unmatched` for 404/405), written through the injected factory. The handles are made once
/// per label set and reused (making one per request showed in the webhook profile).
struct HTTPMetricsMiddleware: RequestObserver {
    let factory: any MetricsFactory
    private let handles = HandleCache()

    init(factory: any MetricsFactory) {
        self.factory = factory
    }

    func observe(_ request: Request, _ context: AppRequestContext, status: Int, since started: ContinuousClock.Instant) {
        let method = RouteLabel.method(request.method)
        let route = RouteLabel.route(context)
        let (counter, timer) = handles.get(method: method, route: route, status: status, factory: factory)
        counter.increment()
        timer.recordInterval(since: started)
    }

    /// The counter and timer of each (method, route, status) seen so far; routes are templates, so it stays small.
    final class HandleCache: Sendable {
        struct Key: Hashable {
            let method: String
            let route: String
            let status: Int
        }

        private let handles = Mutex<[Key: (CoreMetrics.Counter, CoreMetrics.Timer)]>([:])

        func get(method: String, route: String, status: Int, factory: any MetricsFactory)
            -> (CoreMetrics.Counter, CoreMetrics.Timer)
        {
            let key = Key(method: method, route: route, status: status)
            if let found = handles.withLock({ $0[key] }) { return found }
            let made = (
                CoreMetrics.Counter(
                    label: "http_requests_total",
                    dimensions: [("method", method), ("route", route), ("status", String(status))], factory: factory),
                CoreMetrics.Timer(
                    label: "http_request_duration_seconds", dimensions: [("method", method), ("route", route)],
                    factory: factory)
            )
            return handles.withLock { handles in
                if let found = handles[key] { return found }
                handles[key] = made
                return made
            }
        }
    }
}

extension CoreMetrics.Timer {
    /// Records the time elapsed since `start`.
    func recordInterval(since start: ContinuousClock.Instant) {
        let elapsed = ContinuousClock.now - start
        recordNanoseconds(elapsed.inNanoseconds)
    }
}
