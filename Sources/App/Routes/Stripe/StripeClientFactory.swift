import AsyncHTTPClient
import Billing

/// The one way the App builds its Stripe API client: nil when `STRIPE_API_KEY` is not set.
enum StripeClientFactory {
    static func make(config: AppConfig, dependencies: AppDependencies) -> StripeClient? {
        config.stripeAPIKey.map { key in
            StripeClient(
                configuration: StripeClientConfiguration(
                    apiKey: key, apiBaseURL: config.stripeAPIBaseURL, publicBaseURL: config.publicBaseURL),
                httpClient: dependencies.httpClient ?? .shared, logger: dependencies.logger)
        }
    }
}
