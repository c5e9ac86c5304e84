import Billing
import Foundation
import Hummingbird
import Marketing
import ServiceLifecycle
import Telegram

/// `POST /webhooks/telegram`: wires `TelegramWebhookController` (with the shared Bot API client and Marketing's CTA
/// hook) and the subscriber notification services.
enum TelegramWebhookRoutes: AppModule {
    static func addRoutes(to router: AppRouter, config: AppConfig, dependencies: AppDependencies) {
        let webhookMetrics = WebhookMetrics(provider: "telegram", factory: dependencies.metrics.factory)
        let dispatcher = TelegramUpdateDispatcher(
            pool: dependencies.pool,
            bot: dependencies.clients(config).bot,
            signer: StarsInvoicePayloadSigner(botToken: config.telegramBotToken),
            webhookMetrics: webhookMetrics,
            paymentMetrics: TelegramPaymentMetrics(factory: dependencies.metrics.factory),
            hook: CTAUpdateHook(
                metrics: dependencies.clients(config).marketingMetrics),
            supportText: config.supportText, termsURL: config.termsURL,
            starsSubscriptionPeriod: config.starsSubscriptionPeriod)
        TelegramWebhookController(
            auth: TelegramWebhookAuth(secret: config.telegramWebhookSecret), dispatcher: dispatcher,
            metrics: webhookMetrics, pool: dependencies.pool
        ).addRoutes(to: router)
    }

    static func services(config: AppConfig, dependencies: AppDependencies) -> [any Service] {
        NotificationServices.make(config: config, dependencies: dependencies, bot: dependencies.clients(config).bot)
    }
}
