import Billing
import AsyncHTTPClient
import Foundation
import PGClient
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
            marketingMetrics: MarketingMetrics(factory: dependencies.metrics.factory, ctaTypes: config.marketingCTATypes),
            supportText: config.supportText, termsURL: config.termsURL,
            starsSubscriptionPeriod: config.starsSubscriptionPeriod)
        let pool = dependencies.pool
        /// Stores an authenticated update that cannot be applied; 503 (Telegram redelivers) only when that fails too.
        @Sendable func keepRaw(_ body: Data, error: String) async throws {
            let updateID = RawWebhookBody.integer("update_id", in: body).map { "update:\($0)" }
            do {
                try await pool.withConnection { connection in
                    try await PaymentLedger.recordRaw(
                        connection, provider: .telegramStars, eventID: updateID, eventType: "undecodable_update",
                        body: body, error: error)
                }
            } catch {
                throw ProblemError.serviceUnavailable("the update could not be stored; retry later", retryAfterSeconds: 5)
            }
        }
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
                // It carries our secret token, so it is Telegram's: kept raw (dead) rather than lost — it may hold a
                // payment — and answered 200 so Telegram does not drop the next ones behind it.
                try await keepRaw(data, error: "not a Telegram update: \(error)")
                webhookMetrics.record(.failed)
                context.logger.error("authenticated body that is not a Telegram update kept as dead")
                return TelegramWebhookReply.empty.response
            }
            do {
                let reply = try await dispatcher.handle(update, raw: String(decoding: data, as: UTF8.self), logger: context.logger)
                return reply.response
            } catch let error as PGError where error.isRejectedValue {
                // A value the database cannot store as given (a \u0000 in the JSON): kept raw instead.
                try await keepRaw(data, error: "\(error)")
                webhookMetrics.record(.failed)
                context.logger.error(
                    "Telegram update the database cannot store kept raw as dead", metadata: ["update_id": "\(update.updateID)"])
                return TelegramWebhookReply.empty.response
            }
        }
    }

    static func services(config: AppConfig, dependencies: AppDependencies) -> [any Service] {
        NotificationServices.make(
            config: config, dependencies: dependencies, bot: makeBotClient(config: config, dependencies: dependencies))
    }

    /// The Bot API client over the shared HTTP client (`TELEGRAM_API_BASE_URL`; the token never leaves it).
    static func makeBotClient(config: AppConfig, dependencies: AppDependencies) -> BotAPIClient {
        BotAPIClient(
            httpClient: dependencies.httpClient ?? .shared,
            configuration: BotAPIConfiguration(token: config.telegramBotToken, baseURL: config.telegramAPIBaseURL),
            logger: dependencies.logger)
    }
}
