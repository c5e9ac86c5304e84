/// The feature modules of the server, in registration order. Add yours here (one line).
enum AppModules {
    static var all: [any AppModule.Type] {
        [
            HealthController.self,
            MetricsController.self,
            TelegramWebhookRoutes.self,
            AdminEntitlementController.self,
            MiniAppController.self,
            StripeWebhookRoutes.self,
            MarketingController.self,
            AdminStarsRefundController.self,
            AdminRetryController.self,
            AdminUserController.self,
            AdminStripeRefundController.self,
            AdminConsoleController.self,
            OpenAPIController.self,
            ReconcileModule.self,
            HousekeepingModule.self,
        ]
    }
}
