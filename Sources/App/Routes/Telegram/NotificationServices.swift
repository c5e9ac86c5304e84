import Billing
import Logging
import ServiceLifecycle
import Telegram

/// Wires the messages to subscribers: the outbox sender (Mini App button at `PUBLIC_BASE_URL/miniapp/`, the
/// Stripe billing portal for a failed payment) and the periodic "access ends soon / ended" scan.
enum NotificationServices {
    /// The Mini App's billing page for `web_app` buttons. Telegram only opens https Mini Apps, so with a plain
    /// http `PUBLIC_BASE_URL` (local development) the messages go without the button rather than being refused.
    static func miniAppURL(publicBaseURL: String) -> String? {
        guard publicBaseURL.lowercased().hasPrefix("https://") else { return nil }
        return (publicBaseURL.hasSuffix("/") ? String(publicBaseURL.dropLast()) : publicBaseURL) + "/miniapp/"
    }

    static func make(config: AppConfig, dependencies: AppDependencies, bot: BotAPIClient) -> [any Service] {
        let pool = dependencies.pool
        var portalLink: NotificationSender.PortalLink?
        if let stripe = dependencies.clients(config).stripe {
            portalLink = { @Sendable (userID: Int64) async throws -> String? in
                let customer = try await pool.withConnection { connection in
                    try await StripeCustomerStore.customerID(connection, userID: userID)
                }
                guard let customer else { return nil }
                return try await stripe.createBillingPortalSession(customer: customer).url
            }
        }
        let url = miniAppURL(publicBaseURL: config.publicBaseURL)
        if url == nil {
            dependencies.logger.notice("PUBLIC_BASE_URL is not https: messages to subscribers go without the Mini App button")
        }
        return [
            NotificationSender(
                pool: pool, bot: bot, miniAppURL: url, portalLink: portalLink,
                metrics: NotificationMetrics(factory: dependencies.metrics.factory), logger: dependencies.logger),
            AccessExpiryService(pool: pool, logger: dependencies.logger),
        ]
    }
}
