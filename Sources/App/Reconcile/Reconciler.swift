import Billing
import Foundation
import PGClient
import Telegram

/// Reconciliation as `serve` and `telebot reconcile` configure it: each provider's run (`ReconcileRunner`) doing
/// that provider's work, Stripe's in Billing (`StripeReconciler`), Telegram Stars' in Telegram (`StarsReconciler`).
struct Reconciler: Sendable {
    var runner: ReconcileRunner
    var stripe: StripeReconciler
    let stars: StarsReconciler

    /// Pauses after a Stripe 429 the client's own retries did not get past (doubling up to 60 s).
    var rateLimitPause: Duration {
        get { stripe.rateLimitPause }
        set { stripe.rateLimitPause = newValue }
    }

    init(config: AppConfig, dependencies: AppDependencies) {
        let pool = dependencies.pool
        let clients = dependencies.clients(config)
        runner = ReconcileRunner(
            pool: pool, logger: dependencies.logger, metricsFactory: dependencies.metrics.factory,
            now: dependencies.clock.now)
        stripe = StripeReconciler(
            pool: pool, stripe: clients.stripe, processor: clients.stripeProcessor)
        stars = StarsReconciler(
            pool: pool, bot: clients.bot,
            signer: StarsInvoicePayloadSigner(botToken: config.telegramBotToken),
            metricsFactory: dependencies.metrics.factory)
    }

    /// The reconciliation's clock.
    func now() -> Date { runner.now() }

    /// One run for one provider over `[since, now]` (see `ReconcileRunner.run`).
    func run(_ provider: ReconcileProvider, since: Date, dryRun: Bool, waitForLock: Bool) async throws -> ReconcileReport {
        try await runner.run(provider, since: since, dryRun: dryRun, waitForLock: waitForLock) { since, dryRun, logger in
            switch provider {
            case .stripe: try await stripe.reconcile(since: since, dryRun: dryRun, logger: logger)
            case .telegramStars: try await stars.reconcile(since: since, dryRun: dryRun, logger: logger)
            }
        }
    }
}
