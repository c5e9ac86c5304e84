import CoreMetrics
import Prometheus

/// The Prometheus registry `/metrics` emits and the swift-metrics factory writing into it.
///
/// `serve` makes one and bootstraps `MetricsSystem` with its factory (once per process), so module metrics created
/// through the global `MetricsSystem` land in the same registry. Tests make their own (never bootstrapping) and
/// pass it in `AppDependencies`: the HTTP middleware and `ContractMetrics.register` write through `factory`
/// explicitly, so a test reads exactly its own application's counters from `registry`.
struct AppMetrics: Sendable {
    let registry: PrometheusCollectorRegistry
    let factory: AppMetricsFactory

    init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
        self.factory = AppMetricsFactory(registry: registry)
    }
}
