import ServiceLifecycle

/// What a feature (Stripe webhooks, Telegram, Mini App, admin, marketing) plugs into the server.
///
/// A feature is a small controller struct, Hummingbird's style: the services it needs as stored properties (built
/// once, here, from the configuration and the shared dependencies), one `@Sendable` method per route, and the static
/// `addRoutes` that builds it and registers its methods. Add it to `AppModules.all`. Routes are added after the
/// shared middleware (request id, access log, metrics, body limit, problem+json), so they get all of it; add your
/// own bearer middleware on a group:
///
///     struct ThingController: AppModule, Sendable {
///         let pool: PGPool
///
///         static func addRoutes(to router: AppRouter, config: AppConfig, dependencies: AppDependencies) {
///             let controller = Self(pool: dependencies.pool)
///             router.group("/api/v1").add(middleware: MiniAppAuthMiddleware(...)).get("/thing", use: controller.thing)
///         }
///
///         @Sendable func thing(_ request: Request, context: AppRequestContext) async throws -> ThingBody { ... }
///     }
protocol AppModule {
    /// Registers the module's routes. Called once per application by `buildApplication`.
    static func addRoutes(to router: AppRouter, config: AppConfig, dependencies: AppDependencies)

    /// Background services `serve` runs in its service group (default: none). They should run until graceful
    /// shutdown; one that returns early is simply done, one that throws shuts the server down gracefully.
    static func services(config: AppConfig, dependencies: AppDependencies) -> [any Service]
}

extension AppModule {
    static func services(config: AppConfig, dependencies: AppDependencies) -> [any Service] { [] }
}
