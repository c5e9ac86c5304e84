import Billing
import Foundation
import Logging
import PGClient
import Telegram

/// Why a cancel or resume did not happen.
public enum SubscriptionRenewalError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The user has no live recurring subscription to the plan.
    case noSubscription(plan: String)
    /// Stripe or Telegram refused or failed; nothing was recorded.
    case providerFailed(PaymentProvider)

    public var description: String {
        switch self {
        case .noSubscription(let plan): "you have no recurring subscription to \(plan)"
        case .providerFailed(let provider):
            "\(provider == .stripe ? "Stripe" : "Telegram") did not change the subscription; try again"
        }
    }
}

/// Stops or resumes the renewal of the user's own recurring subscription to a plan at the end of the paid period:
/// Stripe through `cancel_at_period_end`, Stars through `editUserStarSubscription`. The provider is called first,
/// outside any transaction; the new state is recorded once it succeeded.
public struct SubscriptionRenewalService: Sendable {
    let pool: PGPool
    let stripe: StripeClient?
    let bot: BotAPIClient
    let logger: Logger

    public init(pool: PGPool, stripe: StripeClient?, bot: BotAPIClient, logger: Logger) {
        self.pool = pool
        self.stripe = stripe
        self.bot = bot
        self.logger = logger
    }

    /// - Parameters:
    ///   - renews: false cancels at the period's end; true resumes.
    /// - Returns: the subscriptions changed (or already in that state).
    /// - Throws: `SubscriptionRenewalError`; database errors as they are.
    @discardableResult
    public func setRenewal(userID: Int64, plan: String, renews: Bool) async throws -> [RenewingSubscription] {
        let found = try await pool.withConnection { try await RenewingSubscriptions.find($0, userID: userID, plan: plan) }
        guard !found.isEmpty else { throw SubscriptionRenewalError.noSubscription(plan: plan) }
        var changed: [RenewingSubscription] = []
        for subscription in found {
            try await callProvider(subscription, renews: renews)
            try await pool.transaction { try await RenewingSubscriptions.record($0, subscription, renews: renews) }
            var updated = subscription
            updated.renews = renews
            changed.append(updated)
        }
        return changed
    }

    private func callProvider(_ subscription: RenewingSubscription, renews: Bool) async throws {
        switch subscription.provider {
        case .stripe:
            guard let stripe else { throw SubscriptionRenewalError.providerFailed(.stripe) }
            do {
                _ = try await stripe.updateSubscription(
                    id: subscription.id, cancelAtPeriodEnd: !renews, idempotencyKey: "renewal-" + UUID().uuidString)
            } catch {
                logger.warning(
                    "Stripe subscription update failed", metadata: ["plan": "\(subscription.plan)", "error": "\(error)"])
                throw SubscriptionRenewalError.providerFailed(.stripe)
            }
        case .telegramStars:
            do {
                try await bot.editUserStarSubscription(
                    EditUserStarSubscriptionRequest(
                        userID: subscription.telegramUserID, telegramPaymentChargeID: subscription.id,
                        isCanceled: !renews))
            } catch {
                logger.warning(
                    "editUserStarSubscription failed", metadata: ["plan": "\(subscription.plan)", "error": "\(error)"])
                throw SubscriptionRenewalError.providerFailed(.telegramStars)
            }
        }
    }
}
