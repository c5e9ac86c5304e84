import CoreMetrics
import Prometheus

/// The swift-metrics backend of the server: Prometheus, with two guards for the contract metrics.
///
/// - Labels of contract metrics are put in contract order (`ContractMetrics.canonical`), so one series is never
///   written twice under two label orders.
/// - A contract histogram is a duration histogram (`Metrics.Timer`); a module that records the same name through
///   an aggregating `Recorder` (seconds as `Double`) is routed into it instead of crashing the registry with a
///   type clash.
struct AppMetricsFactory: MetricsFactory {
    let prometheus: PrometheusMetricsFactory

    init(registry: PrometheusCollectorRegistry) {
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.durationHistogramBuckets = ContractMetrics.histogramBuckets
        self.prometheus = factory
    }

    func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler {
        prometheus.makeCounter(label: label, dimensions: ContractMetrics.canonical(label: label, dimensions: dimensions))
    }

    func makeFloatingPointCounter(label: String, dimensions: [(String, String)]) -> any FloatingPointCounterHandler {
        prometheus.makeFloatingPointCounter(
            label: label, dimensions: ContractMetrics.canonical(label: label, dimensions: dimensions))
    }

    func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler {
        let dimensions = ContractMetrics.canonical(label: label, dimensions: dimensions)
        if aggregate, ContractMetrics.byName[label]?.kind == .histogram {
            return SecondsRecorder(timer: prometheus.makeTimer(label: label, dimensions: dimensions))
        }
        return prometheus.makeRecorder(label: label, dimensions: dimensions, aggregate: aggregate)
    }

    func makeMeter(label: String, dimensions: [(String, String)]) -> any MeterHandler {
        prometheus.makeMeter(label: label, dimensions: ContractMetrics.canonical(label: label, dimensions: dimensions))
    }

    func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler {
        prometheus.makeTimer(label: label, dimensions: ContractMetrics.canonical(label: label, dimensions: dimensions))
    }

    func destroyCounter(_ handler: any CounterHandler) { prometheus.destroyCounter(handler) }
    func destroyFloatingPointCounter(_ handler: any FloatingPointCounterHandler) {
        prometheus.destroyFloatingPointCounter(handler)
    }
    func destroyRecorder(_ handler: any RecorderHandler) {
        if let adapter = handler as? SecondsRecorder {
            prometheus.destroyTimer(adapter.timer)
        } else {
            prometheus.destroyRecorder(handler)
        }
    }
    func destroyMeter(_ handler: any MeterHandler) { prometheus.destroyMeter(handler) }
    func destroyTimer(_ handler: any TimerHandler) { prometheus.destroyTimer(handler) }
}

/// A `Recorder` of seconds writing into a duration histogram.
final class SecondsRecorder: RecorderHandler, Sendable {
    let timer: any TimerHandler

    init(timer: any TimerHandler) { self.timer = timer }

    func record(_ value: Int64) { record(Double(value)) }

    func record(_ value: Double) {
        guard value.isFinite, value >= 0 else { return }
        timer.recordNanoseconds(Int64(min(value, 9e9) * 1e9))
    }
}
