import CoreMetrics
import Hummingbird
import NIOCore
import PGClient

/// `GET /metrics`: the registry in Prometheus text format 0.0.4.
enum MetricsRoutes: AppModule {
    static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    static func addRoutes(to router: AppRouter, config: AppConfig, dependencies: AppDependencies) {
        let metrics = dependencies.metrics
        let pool = dependencies.pool
        router.get("/metrics") { _, _ in
            // The pool updates these gauges as it works; refresh them at scrape time too, so they are exact even
            // when the pool wrote to another backend (tests, which never bootstrap MetricsSystem).
            let counts = pool.connectionCounts
            CoreMetrics.Gauge(label: "db_pool_connections", dimensions: [("state", "idle")], factory: metrics.factory)
                .record(counts.idle)
            CoreMetrics.Gauge(label: "db_pool_connections", dimensions: [("state", "in_use")], factory: metrics.factory)
                .record(counts.inUse)
            var text = metrics.registry.emitToBuffer()
            appendMissingTypeLines(&text)
            return Response(
                status: .ok, headers: [.contentType: contentType],
                body: .init(byteBuffer: ByteBuffer(bytes: MetricHelp.addHelpLines(text))))
        }
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
