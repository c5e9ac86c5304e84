import AsyncHTTPClient
import Billing
import CoreMetrics
import Logging
import MiniApp
import PGClient
import Telegram

/// What the Mini App routes use, built once from the configuration.
struct MiniAppServices: Sendable {
    struct Checkout: Sendable {
        let service: CheckoutService
        let stripeEnabled: Bool
    }

    let pool: PGPool
    let sessions: SessionService
    let auth: MiniAppAuthService
    let checkout: Checkout
    /// Cancel and resume of recurring subscriptions.
    let renewals: SubscriptionRenewalService
    let metrics: MiniAppMetrics

    init(config: AppConfig, dependencies: AppDependencies) async throws {
        pool = dependencies.pool
        sessions = await SessionService(
            pool: dependencies.pool,
            configuration: try SessionConfiguration(
                currentSecret: config.jwtSecret, previousSecret: config.jwtPreviousSecret, ttlSeconds: config.jwtTTL),
            logger: dependencies.logger)
        let validator = try InitDataValidator(configuration: Self.initDataConfiguration(config))
        auth = MiniAppAuthService(
            pool: dependencies.pool, validator: validator, sessions: sessions, logger: dependencies.logger,
            metricsFactory: dependencies.metrics.factory)
        let clients = dependencies.clients(config)
        let stripe = clients.stripe
        let bot = clients.bot
        renewals = SubscriptionRenewalService(pool: dependencies.pool, stripe: stripe, bot: bot, logger: dependencies.logger)
        checkout = Checkout(
            service: CheckoutService(
                pool: dependencies.pool, stripe: stripe,
                bot: bot,
                signer: StarsInvoicePayloadSigner(botToken: config.telegramBotToken), logger: dependencies.logger,
                starsSubscriptionPeriod: config.starsSubscriptionPeriod),
            stripeEnabled: stripe != nil)
        metrics = MiniAppMetrics(factory: dependencies.metrics.factory)
    }
}

extension MiniAppServices {
    /// HMAC with the bot token, Telegram's Ed25519 signature (no token needed), or both, as `INITDATA_CHECK` says.
    static func initDataConfiguration(_ config: AppConfig) -> InitDataValidatorConfiguration {
        let botID = config.initDataBotID ?? config.telegramBotToken.split(separator: ":").first.flatMap { Int64($0) } ?? 0
        let thirdParty = InitDataValidatorConfiguration.ThirdPartyValidation(
            botID: botID, publicKey: config.initDataKeyEnvironment == "test" ? .test : .production)
        let maxAge = Int64(config.initDataMaxAge)
        switch config.initDataCheck {
        case .hmac: return InitDataValidatorConfiguration(botToken: config.telegramBotToken, maxAgeSeconds: maxAge)
        case .ed25519: return InitDataValidatorConfiguration(thirdParty: thirdParty, maxAgeSeconds: maxAge)
        case .both:
            return InitDataValidatorConfiguration(
                botToken: config.telegramBotToken, thirdParty: thirdParty, maxAgeSeconds: maxAge)
        }
    }
}

/// `miniapp_checkout_start_total{plan}`, `billing_checkout_started_total{plan}`, `miniapp_portal_open_total`.
struct MiniAppMetrics: Sendable {
    let portal: CoreMetrics.Counter
    let miniAppCheckouts: CounterFamily
    let billingCheckouts: CounterFamily

    init(factory: any MetricsFactory) {
        portal = CoreMetrics.Counter(label: "miniapp_portal_open_total", factory: factory)
        miniAppCheckouts = CounterFamily(label: "miniapp_checkout_start_total", dimension: "plan", factory: factory)
        billingCheckouts = CounterFamily(label: "billing_checkout_started_total", dimension: "plan", factory: factory)
    }

    func checkoutStarted(plan: String) {
        miniAppCheckouts.counter(plan).increment()
        billingCheckouts.counter(plan).increment()
    }

    func portalOpened() { portal.increment() }
}
