import Hummingbird
import Logging
import PGClient
import Support

/// One log line per request: method, route template, status, duration and (through the logger's metadata) the
/// request id. Successful probe and scrape requests (`/health/*`, `/metrics`) log at debug so they do not drown
/// the log.
struct AccessLogMiddleware: RequestObserver {
    func observe(_ request: Request, _ context: AppRequestContext, status: Int, since started: ContinuousClock.Instant) {
        let route = RouteLabel.route(context)
        let quiet = status < 400 && (route.hasPrefix("/health/") || route == "/metrics")
        let milliseconds = (ContinuousClock.now - started).inMilliseconds
        context.logger.log(
            level: quiet ? .debug : .info, "request",
            metadata: [
                "method": .string(RouteLabel.method(request.method)),
                "route": .string(route),
                "status": .stringConvertible(status),
                "duration_ms": .stringConvertible((milliseconds * 1000).rounded() / 1000),
            ])
    }
}
