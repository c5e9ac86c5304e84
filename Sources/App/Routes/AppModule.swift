import ServiceLifecycle

/// What a feature (Stripe webhooks, Telegram, Mini App, admin, marketing) plugs into the server.
///
/// Write `Routes/<Domain>Routes.swift` with an `enum <Domain>Routes: AppModule`, then add it to
/// `AppModules.all`. Routes are added after the shared middleware (request id, access log, metrics, body limit,
/// problem+json), so they get all of it; add your own bearer middleware on a group:
///
///     static func addRoutes(to router: AppRouter, config: AppConfig, dependencies: AppDependencies) {
///         let api = router.group("/api/v1").add(middleware: MiniAppAuthMiddleware(...))
///         api.get("/me") { request, context in ... }
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
