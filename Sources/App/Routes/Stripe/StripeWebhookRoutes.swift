import Billing
import ServiceLifecycle

/// `POST /webhooks/stripe` (`StripeWebhookController`, with the shared processor) and the retry worker.
enum StripeWebhookRoutes: AppModule {
    static func addRoutes(to router: AppRouter, config: AppConfig, dependencies: AppDependencies) {
        StripeWebhookController(
            verifier: StripeSignatureVerifier(
                secrets: config.stripeWebhookSecrets, toleranceSeconds: Int64(config.stripeWebhookTolerance)),
            processor: dependencies.clients(config).stripeProcessor,
            metrics: WebhookMetrics(provider: "stripe", factory: dependencies.metrics.factory),
            pool: dependencies.pool, enabled: !config.stripeWebhookSecrets.isEmpty, livemode: config.stripeLivemode
        ).addRoutes(to: router)
    }

    static func services(config: AppConfig, dependencies: AppDependencies) -> [any Service] {
        [
            StripeRetryWorker(
                processor: dependencies.clients(config).stripeProcessor, logger: dependencies.logger,
                metricsFactory: dependencies.metrics.factory)
        ]
    }
}
