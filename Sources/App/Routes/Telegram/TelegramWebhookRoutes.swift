import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import Marketing
import NIOCore
import ServiceLifecycle
import Telegram

/// `POST /webhooks/telegram`: secret-token check (constant time), then one update applied once.
enum TelegramWebhookRoutes: AppModule {
    /// A valid header name, so the initialiser cannot fail; the fallback only satisfies the type checker.
    static let secretHeader = HTTPField.Name("X-Telegram-Bot-Api-Secret-Token") ?? .authorization

    static func addRoutes(to router: AppRouter, config: AppConfig, dependencies: AppDependencies) {
        let auth = TelegramWebhookAuth(secret: config.telegramWebhookSecret)
        let webhookMetrics = WebhookMetrics(provider: "telegram", factory: dependencies.metrics.factory)
        let dispatcher = TelegramUpdateDispatcher(
            pool: dependencies.pool,
            bot: makeBotClient(config: config, dependencies: dependencies),
            signer: StarsInvoicePayloadSigner(botToken: config.telegramBotToken),
            webhookMetrics: webhookMetrics,
            paymentMetrics: TelegramPaymentMetrics(factory: dependencies.metrics.factory),
            marketingMetrics: MarketingMetrics(factory: dependencies.metrics.factory, ctaTypes: config.marketingCTATypes))
        router.post("/webhooks/telegram") { request, context in
            guard auth.isValid(request.headers[secretHeader]) else {
                webhookMetrics.record(.rejected)
                throw ProblemError.unauthorized("missing or wrong X-Telegram-Bot-Api-Secret-Token", challenge: "Token")
            }
            let body = try await request.body.collect(upTo: HTTPLimits.maxBodyBytes)
            let data = Data(buffer: body)
            let update: TelegramUpdate
            do {
                update = try TelegramUpdate.decode(from: data)
            } catch {
                webhookMetrics.record(.rejected)
                throw ProblemError.badRequest("the body is not a Telegram update")
            }
            let reply = try await dispatcher.handle(update, raw: String(decoding: data, as: UTF8.self), logger: context.logger)
            return reply.response
        }
    }

    static func services(config: AppConfig, dependencies: AppDependencies) -> [any Service] {
        [NotificationSender(pool: dependencies.pool, bot: makeBotClient(config: config, dependencies: dependencies),
                            logger: dependencies.logger)]
    }

    /// The Bot API client over the shared HTTP client (`TELEGRAM_API_BASE_URL`; the token never leaves it).
    static func makeBotClient(config: AppConfig, dependencies: AppDependencies) -> BotAPIClient {
        BotAPIClient(
            httpClient: dependencies.httpClient ?? .shared,
            configuration: BotAPIConfiguration(token: config.telegramBotToken, baseURL: config.telegramAPIBaseURL),
            logger: dependencies.logger)
    }
}
