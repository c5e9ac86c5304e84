import Billing
import Foundation
import Logging
import PGClient

/// Applies one Telegram update. Every update's effects commit in one transaction together with its `update_id`
/// (so a redelivery is a no-op); calls back to Telegram happen after that commit, never inside it.
///
/// Updates the dispatcher does not own (CTA callbacks and `/start` links) go to its `TelegramUpdateHook`, which
/// records them in the same transaction.
public struct TelegramUpdateDispatcher: Sendable {
    let pool: PGPool
    let bot: BotAPIClient
    let signer: StarsInvoicePayloadSigner
    let webhookMetrics: WebhookMetrics
    let paymentMetrics: TelegramPaymentMetrics
    let hook: (any TelegramUpdateHook)?
    /// How old an invoice may be when its pre-checkout query arrives.
    let invoiceMaxAge: TimeInterval = 7 * 86_400
    /// `/paysupport`'s answer (`SUPPORT_TEXT`).
    var supportText: String = TelegramUpdateDispatcher.defaultSupportText
    /// `/terms`'s answer (`TERMS_URL`); nil: terms are not configured.
    var termsURL: String?
    /// `subscription_period` of the invoice links `/buy` sends for recurring plans.
    var starsSubscriptionPeriod: Int = TelegramStars.subscriptionPeriod

    /// `/paysupport`'s answer when `SUPPORT_TEXT` is not set.
    public static let defaultSupportText =
        "For help with a payment, write to this bot describing the problem and the date of the payment; we answer within two business days."

    /// - Parameters:
    ///   - pool: the database every update's effects commit to, with its `update_id`.
    ///   - bot: the Bot API client for replies (after the commit).
    ///   - signer: checks invoice payloads and signs those `/buy` sends.
    ///   - webhookMetrics: `webhook_events_total{provider="telegram"}`.
    ///   - paymentMetrics: `telegram_payments_total` and `telegram_payment_value_total`.
    ///   - hook: what a module above records for CTA callbacks and `/start` links (nil: nothing).
    ///   - supportText: `/paysupport`'s answer.
    ///   - termsURL: `/terms`'s answer; nil: terms are not configured.
    ///   - starsSubscriptionPeriod: `subscription_period` of the invoice links `/buy` sends for recurring plans.
    public init(
        pool: PGPool, bot: BotAPIClient, signer: StarsInvoicePayloadSigner, webhookMetrics: WebhookMetrics,
        paymentMetrics: TelegramPaymentMetrics, hook: (any TelegramUpdateHook)?,
        supportText: String = TelegramUpdateDispatcher.defaultSupportText, termsURL: String? = nil,
        starsSubscriptionPeriod: Int = TelegramStars.subscriptionPeriod
    ) {
        self.pool = pool
        self.bot = bot
        self.signer = signer
        self.webhookMetrics = webhookMetrics
        self.paymentMetrics = paymentMetrics
        self.hook = hook
        self.supportText = supportText
        self.termsURL = termsURL
        self.starsSubscriptionPeriod = starsSubscriptionPeriod
    }
    /// Replies sent while Telegram waits for the webhook's answer (callback answers, `/buy`, `/status`): one quick
    /// retry at most, and no long flood-control waits, so a slow Bot API cannot hold the webhook for 30 s. The
    /// update is already committed, so a lost reply is only a lost reply.
    static let replyRetry = BotAPIRetryPolicy(
        maxAttempts: 2, baseDelay: .milliseconds(100), maxDelay: .milliseconds(500), maxRetryAfter: .seconds(2))

    /// Applies `update` once.
    /// - Parameters:
    ///   - update: the decoded update.
    ///   - raw: its body as received (the ledger keeps payments' bodies).
    ///   - logger: the request's logger.
    /// - Returns: what the webhook answers (a pre-checkout answer rides on the response).
    public func handle(_ update: TelegramUpdate, raw: String, logger: Logger) async throws -> TelegramWebhookReply {
        var logger = logger
        logger[metadataKey: "update_id"] = "\(update.updateID)"
        switch update.content {
        case .preCheckoutQuery(let query):
            return try await preCheckout(update, query)
        case .message(let message):
            if let payment = message.successfulPayment {
                try await successfulPayment(update, message, payment, raw: raw, logger: logger)
            } else if let refund = message.refundedPayment {
                try await refunded(update, refund, raw: raw, logger: logger)
            } else if let text = message.text, text.hasPrefix("/") {
                try await command(update, message, text, logger: logger)
            } else {
                try await claimOnly(update, kind: "message")
            }
        case .callbackQuery(let query):
            try await callback(update, query, logger: logger)
        case .editedMessage, .channelPost, .unknown:
            try await claimOnly(update, kind: "other")
        }
        return .empty
    }

    func claimOnly(_ update: TelegramUpdate, kind: String) async throws {
        let updateID = update.updateID
        let claimed = try await pool.transaction { try await TelegramUpdateLog.claim($0, updateID: updateID, kind: kind) }
        webhookMetrics.record(claimed ? .ignored : .duplicate)
    }
}
