import AsyncHTTPClient
import Billing
import Marketing
import Telegram

/// The outbound clients, the Stripe event processor and the marketing metric handles, built once per server (by
/// `serve`, or by `buildRouter` when the caller did not) and shared by every route and service that uses them.
struct AppClients: Sendable {
    /// The Bot API client over the shared HTTP client (`TELEGRAM_API_BASE_URL`; the token never leaves it).
    let bot: BotAPIClient
    /// The Stripe API client; nil when `STRIPE_API_KEY` is not set.
    let stripe: StripeClient?
    /// The processor every Stripe path shares (webhook, retry worker, operator retry, reconciliation):
    /// `PAST_DUE_GRACE_DAYS`, and the Stripe client that finds the invoice of a refunded payment intent when the
    /// charge does not name it.
    let stripeProcessor: StripeWebhookProcessor
    /// Click and promo metrics (`MARKETING_CTA_TYPES` bounds the label), shared by the click API, the CTA capture in
    /// the Telegram webhook and the promo scheduler.
    let marketingMetrics: MarketingMetrics

    init(config: AppConfig, dependencies: AppDependencies) {
        let httpClient = dependencies.httpClient ?? .shared
        bot = BotAPIClient(
            httpClient: httpClient,
            configuration: BotAPIConfiguration(token: config.telegramBotToken, baseURL: config.telegramAPIBaseURL),
            logger: dependencies.logger)
        let stripe = config.stripeAPIKey.map { key in
            StripeClient(
                configuration: StripeClientConfiguration(
                    apiKey: key, apiBaseURL: config.stripeAPIBaseURL, publicBaseURL: config.publicBaseURL),
                httpClient: httpClient, logger: dependencies.logger)
        }
        self.stripe = stripe
        var lookup: (@Sendable (String) async throws -> String?)?
        if let stripe {
            lookup = { paymentIntent in try await stripe.invoiceID(forPaymentIntent: paymentIntent) }
        }
        marketingMetrics = MarketingMetrics(factory: dependencies.metrics.factory, ctaTypes: config.marketingCTATypes)
        let grace = Duration.seconds(Int64(config.pastDueGraceDays) * 86_400)
        stripeProcessor = StripeWebhookProcessor(
            pool: dependencies.pool, logger: dependencies.logger, metricsFactory: dependencies.metrics.factory,
            options: StripeHandlingOptions(pastDueGrace: grace), invoiceLookup: lookup)
    }
}

extension AppDependencies {
    /// The clients `serve` built once; built now when nobody did (a test's dependencies).
    func clients(_ config: AppConfig) -> AppClients {
        clients ?? AppClients(config: config, dependencies: self)
    }
}
