/// The feature modules of the server, in registration order. Add yours here (one line).
enum AppModules {
    static var all: [any AppModule.Type] {
        [
            HealthRoutes.self,
            MetricsRoutes.self,
            TelegramWebhookRoutes.self,
            AdminRoutes.self,
            MiniAppRoutes.self,
            StripeWebhookRoutes.self,
            MarketingRoutes.self,
            AdminRefundRoutes.self,
            AdminRetryRoutes.self,
            AdminUserRoutes.self,
            AdminStripeRefundRoutes.self,
            AdminConsoleRoutes.self,
            OpenAPIRoutes.self,
            ReconcileModule.self,
            HousekeepingModule.self,
        ]
    }
}
