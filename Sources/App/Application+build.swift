import Hummingbird
import Logging

/// Builds the HTTP application: router, shared middleware, every module's routes. `serve` runs it inside the
/// service group of `AppLifecycle`; tests call it with their own dependencies and use `app.test(.router)` or
/// `.live`.
///
/// Connections: keep-alive idle timeout 60 s, request headers within 10 s of their first byte, bodies within 30 s
/// of the headers (`HTTPTimeouts`, `TimedHTTP1Channel`).
///
/// Middleware, outermost first: security headers → request id → access log → metrics → body limit (16 KiB for
/// Mini App sign-in and clicks, 1 MiB elsewhere) → problem+json → admin token gate
/// (`/admin/v1`, matched routes or not). Routes are
/// registered after the middleware, so all of it applies to every route, and to 404/405 answers.
/// - Parameters:
///   - config: validated configuration (listen address, feature switches).
///   - dependencies: pool, HTTP client, metrics, logger.
///   - modules: the feature modules whose routes to add (default: all of them).
///   - onListening: called with the bound port once the server listens (tests binding port 0 use it).
func buildApplication(
    config: AppConfig, dependencies: AppDependencies, modules: [any AppModule.Type] = AppModules.all,
    onListening: (@Sendable (Int) -> Void)? = nil
) -> some ApplicationProtocol {
    let router = buildRouter(config: config, dependencies: dependencies, modules: modules)
    let logger = dependencies.logger
    return Application(
        router: router.router,
        server: TimedHTTP1Channel.builder(config.httpTimeouts),
        configuration: .init(address: .hostname(config.host, port: config.port), serverName: nil),
        onServerRunning: { channel in
            let port = channel.localAddress?.port ?? config.port
            logger.info("listening", metadata: ["host": .string(config.host), "port": .stringConvertible(port)])
            onListening?(port)
        },
        logger: logger
    )
}

/// The router of `buildApplication`, for tests that add routes of their own (a slow route, a failing one)
/// before building an application from it.
func buildRouter(
    config: AppConfig, dependencies: AppDependencies, modules: [any AppModule.Type] = AppModules.all
) -> AppRouter {
    var dependencies = dependencies
    if dependencies.clients == nil { dependencies.clients = AppClients(config: config, dependencies: dependencies) }
    let router = AppRouter()
    let mapper = ErrorMapper(routes: router.routes)
    // The pool's gauges and checkout waits go to this application's registry (what /metrics serves).
    dependencies.pool.reportMetrics(to: dependencies.metrics.factory)
    if ReactorExecutorMiddleware.isEnabled { router.add(middleware: ReactorExecutorMiddleware()) }
    router.add(middleware: SecurityHeadersMiddleware())
    router.add(middleware: RequestIDMiddleware(mapper: mapper))
    router.add(middleware: AccessLogMiddleware())
    router.add(middleware: HTTPMetricsMiddleware(factory: dependencies.metrics.factory))
    router.add(middleware: BodyLimitMiddleware())
    router.add(middleware: ProblemMiddleware(mapper: mapper))
    if let token = config.adminToken {
        router.add(middleware: AdminAuthMiddleware(token: token, pathPrefix: "/admin/v1"))
    }
    for module in modules {
        module.addRoutes(to: router, config: config, dependencies: dependencies)
    }
    return router
}
