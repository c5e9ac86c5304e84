import Billing
import Logging
import PGClient

/// Ends the renewal of the Stars subscription a refunded charge belongs to (`editUserStarSubscription` with
/// `is_canceled: true`), so the buyer is not charged again, whichever way the refund came (an operator's refund or
/// Telegram's `refunded_payment` update). `stars_subscriptions.canceled` records it once Telegram agreed, so a
/// second refund path finds it done and calls nothing.
public struct StarsRenewalCanceler: Sendable {
    let pool: PGPool
    let bot: BotAPIClient
    let retry: BotAPIRetryPolicy?

    /// - Parameter retry: the Bot API retry policy of the call (nil: the client's own).
    public init(pool: PGPool, bot: BotAPIClient, retry: BotAPIRetryPolicy? = nil) {
        self.pool = pool
        self.bot = bot
        self.retry = retry
    }

    /// - Returns: nil for a one-time payment (nothing renews), else whether the renewal is canceled now (false: the
    ///   call failed; it is logged, and a repeated refund request tries again).
    public func cancelAfterRefund(chargeID: String, logger: Logger) async -> Bool? {
        do {
            guard
                let subscription = try await pool.withConnection({
                    try await RenewingSubscriptions.starsSubscription($0, chargeID: chargeID)
                })
            else { return nil }
            if subscription.canceled { return true }
            try await bot.editUserStarSubscription(
                EditUserStarSubscriptionRequest(
                    userID: subscription.telegramUserID, telegramPaymentChargeID: subscription.firstChargeID,
                    isCanceled: true),
                retry: retry)
            try await pool.withConnection {
                try await RenewingSubscriptions.markStarsCanceled($0, firstChargeID: subscription.firstChargeID, canceled: true)
            }
            logger.notice(
                "Stars subscription renewal canceled after refund",
                metadata: ["first_charge_id": "\(subscription.firstChargeID)"])
            return true
        } catch {
            logger.error(
                "refunded, but the Stars subscription's renewal could not be canceled",
                metadata: ["charge_id": "\(chargeID)", "error": "\(error)"])
            return false
        }
    }
}
