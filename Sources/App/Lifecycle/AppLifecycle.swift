import Hummingbird
import Logging
import ServiceLifecycle
import UnixSignals

/// The service group `serve` runs: the pool first (so it stops last), then background services, then the HTTP
/// application. On SIGTERM/SIGINT services stop in reverse order: the server stops accepting and finishes its
/// in-flight requests, background services stop, then the pool closes. Graceful shutdown is bounded by
/// `SHUTDOWN_GRACE_SECONDS`, after which remaining work is cancelled.
enum AppLifecycle {
    /// - Parameters:
    ///   - app: the application from `buildApplication`.
    ///   - dependencies: supplies the pool and the background services.
    ///   - shutdownGrace: the bound on graceful shutdown.
    ///   - signals: signals that start graceful shutdown (tests pass none and trigger it themselves).
    ///   - logger: the group's logger.
    static func serviceGroup(
        app: some ApplicationProtocol, dependencies: AppDependencies, shutdownGrace: Duration,
        signals: [UnixSignal] = [.sigterm, .sigint], logger: Logger
    ) -> ServiceGroup {
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(service: dependencies.pool, successTerminationBehavior: .gracefullyShutdownGroup)
        ]
        for service in dependencies.services {
            services.append(
                .init(service: service, successTerminationBehavior: .ignore, failureTerminationBehavior: .gracefullyShutdownGroup))
        }
        services.append(.init(service: app))
        var configuration = ServiceGroupConfiguration(services: services, gracefulShutdownSignals: signals, logger: logger)
        configuration.maximumGracefulShutdownDuration = shutdownGrace
        return ServiceGroup(configuration: configuration)
    }
}
