import CoreMetrics
import Hummingbird
import PGClient

/// `http_requests_total{method,route,status}` and `http_request_duration_seconds{method,route}`, labelled with
/// the route template (`unmatched` for 404/405), written through the injected factory.
struct HTTPMetricsMiddleware: RequestObserver {
    let factory: any MetricsFactory

    func observe(_ request: Request, _ context: AppRequestContext, status: Int, since started: ContinuousClock.Instant) {
        let method = RouteLabel.method(request.method)
        let route = RouteLabel.route(context)
        CoreMetrics.Counter(
            label: "http_requests_total", dimensions: [("method", method), ("route", route), ("status", String(status))],
            factory: factory
        ).increment()
        CoreMetrics.Timer(
            label: "http_request_duration_seconds", dimensions: [("method", method), ("route", route)], factory: factory
        ).recordInterval(since: started)
    }
}

extension CoreMetrics.Timer {
    /// Records the time elapsed since `start`.
    func recordInterval(since start: ContinuousClock.Instant) {
        let elapsed = ContinuousClock.now - start
        recordNanoseconds(elapsed.inNanoseconds)
    }
}
