import CoreMetrics
import Hummingbird
import NIOCore
import PGClient
import Synchronization

/// `GET /metrics`: the registry in Prometheus text format 0.0.4. With `METRICS_TOKEN` set, only for
/// `Authorization: Bearer <METRICS_TOKEN>` (compared in constant time); anything else is 401.
struct MetricsController: AppModule, Sendable {
    static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    let metrics: AppMetrics
    let token: SecretToken?
    let droppedLogLines: DroppedLogLines

    /// `log_lines_dropped_total` follows the log writer's own count, brought up to date at each scrape.
    final class DroppedLogLines: Sendable {
        private let logLines: LineWriter
        private let reported = Mutex(0)
        private let counter: CoreMetrics.Counter

        init(logLines: LineWriter, factory: any MetricsFactory) {
            self.logLines = logLines
            counter = CoreMetrics.Counter(label: "log_lines_dropped_total", factory: factory)
        }

        func report() {
            let delta = reported.withLock { reported in
                let dropped = logLines.dropped
                defer { reported = max(reported, dropped) }
                return dropped - reported
            }
            if delta > 0 { counter.increment(by: delta) }
        }
    }

    static func addRoutes(to router: AppRouter, config: AppConfig, dependencies: AppDependencies) {
        let metrics = dependencies.metrics
        let controller = Self(
            metrics: metrics, token: config.metricsToken.map(SecretToken.init),
            droppedLogLines: DroppedLogLines(logLines: dependencies.logLines, factory: metrics.factory))
        router.get("/metrics", use: controller.scrape)
    }

    @Sendable func scrape(_ request: Request, context: AppRequestContext) throws -> Response {
        if let token, !token.matchesBearer(request.headers[.authorization]) {
            throw ProblemError.unauthorized("the metrics token is required (Authorization: Bearer <METRICS_TOKEN>)")
        }
        // The pool records its gauges into this registry as it works (`reportMetrics(to:)`, in buildRouter).
        droppedLogLines.report()
        var text = metrics.registry.emitToBuffer()
        Self.appendMissingTypeLines(&text)
        return Response(
            status: .ok, headers: [.contentType: Self.contentType],
            body: .init(byteBuffer: ByteBuffer(bytes: MetricHelp.addHelpLines(text))))
    }

    /// Contract metrics with no series yet (open label values, nothing recorded) still get their `# TYPE` line,
    /// so every contract name is visible from the first scrape.
    static func appendMissingTypeLines(_ text: inout [UInt8]) {
        let emitted = String(decoding: text, as: UTF8.self)
        var declared: Set<Substring> = []
        for line in emitted.split(separator: "\n") where line.hasPrefix("# TYPE ") {
            if let name = line.dropFirst(7).split(separator: " ").first { declared.insert(name) }
        }
        for definition in ContractMetrics.all where !declared.contains(Substring(definition.name)) {
            text.append(contentsOf: "# TYPE \(definition.name) \(definition.kind.rawValue)\n".utf8)
        }
    }
}
