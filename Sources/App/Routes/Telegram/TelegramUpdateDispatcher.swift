import Billing
import Foundation
import Logging
import Marketing
import PGClient
import Telegram

/// Applies one Telegram update. Every update's effects commit in one transaction together with its `update_id`
/// (so a redelivery is a no-op); calls back to Telegram happen after that commit, never inside it.
struct TelegramUpdateDispatcher: Sendable {
    let pool: PGPool
    let bot: BotAPIClient
    let signer: StarsInvoicePayloadSigner
    let webhookMetrics: WebhookMetrics
    let paymentMetrics: TelegramPaymentMetrics
    let marketingMetrics: MarketingMetrics
    /// How old an invoice may be when its pre-checkout query arrives.
    let invoiceMaxAge: TimeInterval = 7 * 86_400
    /// `/paysupport`'s answer (`SUPPORT_TEXT`).
    var supportText: String = AppConfig.defaultSupportText
    /// `/terms`'s answer (`TERMS_URL`); nil: terms are not configured.
    var termsURL: String?
    /// `subscription_period` of the invoice links `/buy` sends for recurring plans.
    var starsSubscriptionPeriod: Int = TelegramStars.subscriptionPeriod
    /// Replies sent while Telegram waits for the webhook's answer (callback answers, `/buy`, `/status`): one quick
    /// retry at most, and no long flood-control waits, so a slow Bot API cannot hold the webhook for 30 s. The
    /// update is already committed, so a lost reply is only a lost reply.
    static let replyRetry = BotAPIRetryPolicy(
        maxAttempts: 2, baseDelay: .milliseconds(100), maxDelay: .milliseconds(500), maxRetryAfter: .seconds(2))

    func handle(_ update: TelegramUpdate, raw: String, logger: Logger) async throws -> TelegramWebhookReply {
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

    // MARK: - Payments

    private func preCheckout(_ update: TelegramUpdate, _ query: PreCheckoutQuery) async throws -> TelegramWebhookReply {
        let plan = try? signer.verify(
            query.invoicePayload, expectedTelegramUserID: query.from.id, maxAge: invoiceMaxAge
        ).plan
        let currency = query.currency
        let amount = Int64(query.totalAmount)
        let updateID = update.updateID
        let (claimed, decision) = try await pool.transaction { tx in
            let claimed = try await TelegramUpdateLog.claim(tx, updateID: updateID, kind: "pre_checkout_query")
            return (claimed, try await PreCheckoutRules.decide(tx, plan: plan, currency: currency, totalAmount: amount))
        }
        webhookMetrics.record(claimed ? .processed : .duplicate)
        // Answer even a redelivered query: the answer has no effect of its own and Telegram is still waiting.
        return .answerPreCheckout(
            AnswerPreCheckoutQueryRequest(
                preCheckoutQueryID: query.id, ok: decision.ok, errorMessage: decision.ok ? nil : decision.errorMessage))
    }

    private func successfulPayment(
        _ update: TelegramUpdate, _ message: TelegramMessage, _ payment: SuccessfulPayment, raw: String, logger: Logger
    ) async throws {
        var logger = logger
        logger[metadataKey: "charge_id"] = "\(payment.telegramPaymentChargeID)"
        guard let stars = try await StarsPaymentResolver(pool: pool, signer: signer).resolve(message, payment, raw: raw)
        else {
            // Money was taken but we cannot tell for what: keep it in the ledger as dead for an operator, who can
            // retry it (`POST /admin/v1/payment-events/{id}/retry`) once the cause is fixed.
            guard
                try await recordUnapplied(
                    update, chargeID: payment.telegramPaymentChargeID, raw: raw,
                    error: "invoice payload failed verification")
            else { return webhookMetrics.record(.duplicate) }
            logger.error("Stars payment with an unverifiable invoice payload; recorded as dead for review")
            paymentMetrics.failed.increment()
            webhookMetrics.record(.failed)
            return
        }
        let updateID = update.updateID
        do {
            let outcome = try await pool.transaction { tx -> StarsLedgerOutcome in
                guard try await TelegramUpdateLog.claim(tx, updateID: updateID, kind: "successful_payment") else {
                    return .duplicate
                }
                return try await StarsLedger.applyPayment(tx, stars)
            }
            switch outcome {
            case .applied(let state):
                paymentMetrics.paid(amount: stars.totalAmount, currency: stars.currency)
                webhookMetrics.record(.processed)
                logger.info(
                    "Stars payment applied",
                    metadata: [
                        "plan": "\(stars.plan)", "status": "\(state.status.rawValue)",
                        "expires_at": "\(state.expiresAt.ISO8601Format())",
                    ])
            case .duplicate:
                webhookMetrics.record(.duplicate)
            case .recordedWithoutEffect:
                webhookMetrics.record(.ignored)
            }
        } catch let error as PGError where !Self.failsOnEveryDelivery(error) {
            throw error  // 5xx: Telegram delivers the update again later.
        } catch {
            guard try await recordUnapplied(update, chargeID: stars.chargeID, raw: raw, error: "\(error)") else {
                return webhookMetrics.record(.duplicate)
            }
            logger.error("Stars payment could not be applied; recorded as dead for review", metadata: ["error": "\(error)"])
            paymentMetrics.failed.increment()
            webhookMetrics.record(.failed)
        }
    }

    private func refunded(_ update: TelegramUpdate, _ refund: RefundedPayment, raw: String, logger: Logger) async throws {
        let chargeID = refund.telegramPaymentChargeID
        let updateID = update.updateID
        let (claimed, outcome) = try await pool.transaction { tx -> (Bool, StarsLedgerOutcome) in
            guard try await TelegramUpdateLog.claim(tx, updateID: updateID, kind: "refunded_payment") else {
                return (false, .duplicate)
            }
            return (true, try await StarsLedger.applyRefund(tx, chargeID: chargeID, actor: .telegramStars, rawJSON: raw))
        }
        switch outcome {
        case .applied:
            webhookMetrics.record(.processed)
            logger.info("Stars refund applied", metadata: ["charge_id": "\(chargeID)"])
        case .duplicate: webhookMetrics.record(.duplicate)
        case .recordedWithoutEffect: webhookMetrics.record(.ignored)
        }
        // A refunded subscription charge also ends the renewal, as an operator's refund does (once: a canceled
        // subscription is not called again). After the commit; a redelivered update does not call again.
        guard claimed else { return }
        _ = await StarsRenewalCanceler(pool: pool, bot: bot, retry: Self.replyRetry)
            .cancelAfterRefund(chargeID: chargeID, logger: logger)
    }

    /// Database failures that would happen again on every delivery (invalid data, a broken constraint): the
    /// payment is kept as dead for an operator rather than redelivered by Telegram forever. Everything else (lost
    /// connection, pool timeout, shutdown, statement timeout, lock timeout) is thrown so that Telegram retries.
    static func failsOnEveryDelivery(_ error: PGError) -> Bool {
        guard error.kind == .server, let state = error.sqlState, !error.isConnectionLost else { return false }
        return state.errorClass == "22" || state.errorClass == "23"
    }

    /// Keeps a payment we could not apply in the ledger (`dead`, with the reason) instead of losing it.
    /// - Returns: false when the update had already been handled (a concurrent or repeated delivery): nothing written.
    private func recordUnapplied(_ update: TelegramUpdate, chargeID: String, raw: String, error: String) async throws
        -> Bool
    {
        let updateID = update.updateID
        return try await pool.transaction { tx -> Bool in
            guard try await TelegramUpdateLog.claim(tx, updateID: updateID, kind: "successful_payment") else { return false }
            if let id = try await PaymentLedger.recordFailure(
                tx, provider: .telegramStars, eventID: chargeID, eventType: "successful_payment",
                payload: PGRawJSON(raw), eventCreated: nil, error: error, retryIn: .seconds(3600))
            {
                try await PaymentLedger.setStatus(tx, id: id, status: .dead)
            }
            return true
        }
    }

    // MARK: - Marketing and commands

    private func callback(_ update: TelegramUpdate, _ query: CallbackQuery, logger: Logger) async throws {
        if let data = query.data, data.hasPrefix(Self.buyCallbackPrefix) {
            return try await buyCallback(update, query, plan: String(data.dropFirst(Self.buyCallbackPrefix.count)), logger: logger)
        }
        let cta = query.data.flatMap(CTAParser.parseCallbackData)
        let updateID = update.updateID
        let profile = Self.profile(query.from)
        let channel = query.message.map { String($0.chat.id) }
        let recorded = try await pool.transaction { tx -> Bool in
            guard try await TelegramUpdateLog.claim(tx, updateID: updateID, kind: "callback_query") else { return false }
            guard let cta else { return true }
            _ = try await CTACapture.record(tx, telegramID: query.from.id, profile: profile, cta: cta, channel: channel)
            return true
        }
        if recorded, let cta { marketingMetrics.recordClicks(ctaType: cta.name) }
        webhookMetrics.record(recorded ? (cta == nil ? .ignored : .processed) : .duplicate)
        guard recorded else { return }
        do {
            _ = try await bot.answerCallbackQuery(
                AnswerCallbackQueryRequest(callbackQueryID: query.id, text: cta == nil ? nil : "Thanks!"),
                retry: Self.replyRetry)
        } catch {
            logger.warning("answerCallbackQuery failed", metadata: ["error": "\(error)"])
        }
    }

    private func command(_ update: TelegramUpdate, _ message: TelegramMessage, _ text: String, logger: Logger) async throws {
        guard let from = message.from else { return try await claimOnly(update, kind: "message") }
        let word = text.split(separator: " ").first.map { String($0.split(separator: "@").first ?? $0) } ?? ""
        let updateID = update.updateID
        let profile = Self.profile(from)
        let cta = word == "/start" ? CTAParser.parseStartCommand(text) : nil
        let context = try await pool.transaction { tx -> CommandContext? in
            guard try await TelegramUpdateLog.claim(tx, updateID: updateID, kind: "command") else { return nil }
            let user = try await UserStore.upsert(tx, profile: profile)
            if let cta { _ = try await CTACapture.record(tx, telegramID: from.id, profile: profile, cta: cta, channel: "bot") }
            return CommandContext(
                userID: user.id, plans: try await PlanStore.activePlans(tx),
                entitlements: try await EntitlementStore.active(tx, userID: user.id))
        }
        guard let context else {
            webhookMetrics.record(.duplicate)
            return
        }
        if let cta { marketingMetrics.recordClicks(ctaType: cta.name) }
        webhookMetrics.record(.processed)
        do {
            switch word {
            case "/buy": try await sendPlanChoice(chatID: message.chat.id, plans: context.plans)
            case "/status": try await sendStatus(chatID: message.chat.id, context: context)
            case "/paysupport": try await reply(chatID: message.chat.id, supportText)
            case "/terms":
                try await reply(chatID: message.chat.id, termsURL.map { "Terms of service: \($0)" } ?? "Terms are not configured.")
            default: break
            }
        } catch {
            logger.warning("bot reply failed", metadata: ["command": "\(word)", "error": "\(error)"])
        }
    }

    struct CommandContext: Sendable {
        let userID: Int64
        let plans: [Plan]
        let entitlements: [Entitlement]
    }

    /// Callback data of `/buy`'s plan buttons: `buy:<plan code>`.
    static let buyCallbackPrefix = "buy:"

    /// `/buy`: every plan sellable with Stars, one button each (`buy:<plan>`).
    private func sendPlanChoice(chatID: Int64, plans: [Plan]) async throws {
        let sellable = plans.filter { $0.starsPrice != nil && (Self.buyCallbackPrefix + $0.code).utf8.count <= 64 }
        guard !sellable.isEmpty else { return try await reply(chatID: chatID, "Nothing is for sale right now.") }
        let buttons = sellable.map { plan in
            [InlineKeyboardButton.callback(
                "\(plan.name): \(plan.starsPrice ?? 0) ⭐\(plan.recurring ? " / \(plan.periodDays) days" : "")",
                data: Self.buyCallbackPrefix + plan.code)]
        }
        _ = try await bot.sendMessage(
            SendMessageRequest(chatID: .id(chatID), text: "Choose a plan:", replyMarkup: InlineKeyboardMarkup(buttons)),
            retry: Self.replyRetry)
    }

    /// A `/buy` button: answers the callback, then sends the plan's invoice — for a recurring plan a Stars
    /// subscription link (`createInvoiceLink` with `subscription_period`) in a message with a pay button, otherwise
    /// an invoice message (`sendInvoice`). Handled once per `update_id`.
    private func buyCallback(_ update: TelegramUpdate, _ query: CallbackQuery, plan code: String, logger: Logger)
        async throws
    {
        let updateID = update.updateID
        let profile = Self.profile(query.from)
        let result = try await pool.transaction { tx -> (claimed: Bool, plan: Plan?) in
            guard try await TelegramUpdateLog.claim(tx, updateID: updateID, kind: "callback_query") else { return (false, nil) }
            _ = try await UserStore.upsert(tx, profile: profile)
            return (true, try await PlanStore.plan(tx, code: code))
        }
        guard result.claimed else { return webhookMetrics.record(.duplicate) }
        let plan = result.plan.flatMap { $0.active && $0.starsPrice != nil ? $0 : nil }
        webhookMetrics.record(plan == nil ? .ignored : .processed)
        do {
            _ = try await bot.answerCallbackQuery(
                AnswerCallbackQueryRequest(
                    callbackQueryID: query.id, text: plan == nil ? "This plan is not for sale." : nil),
                retry: Self.replyRetry)
            guard let plan, let price = plan.starsPrice else { return }
            let chatID = query.from.id  // the buyer's private chat, wherever the button was
            let payload = try signer.make(plan: plan.code, telegramUserID: query.from.id)
            let title = String(plan.name.prefix(TelegramStars.maxTitleLength))
            let description = "\(plan.name): \(plan.periodDays) days of access."
            if plan.recurring {
                let link = try await bot.createInvoiceLink(
                    .stars(
                        title: title, description: description + " Renews until cancelled.", payload: payload,
                        amount: price, recurring: true, subscriptionPeriod: starsSubscriptionPeriod),
                    retry: Self.replyRetry)
                _ = try await bot.sendMessage(
                    SendMessageRequest(
                        chatID: .id(chatID), text: "\(plan.name): \(price) ⭐ every \(Self.periodText(starsSubscriptionPeriod)).",
                        replyMarkup: InlineKeyboardMarkup([[.url("Subscribe for \(price) ⭐", url: link)]])),
                    retry: Self.replyRetry)
            } else {
                _ = try await bot.sendInvoice(
                    .stars(chatID: .id(chatID), title: title, description: description, payload: payload, amount: price),
                    retry: Self.replyRetry)
            }
        } catch {
            logger.warning("bot reply failed", metadata: ["callback": "buy", "plan": "\(code)", "error": "\(error)"])
        }
    }

    static func periodText(_ seconds: Int) -> String {
        seconds % 86_400 == 0 ? "\(seconds / 86_400) days" : seconds % 60 == 0 ? "\(seconds / 60) minutes" : "\(seconds) seconds"
    }

    private func reply(chatID: Int64, _ text: String) async throws {
        _ = try await bot.sendMessage(SendMessageRequest(chatID: .id(chatID), text: text), retry: Self.replyRetry)
    }

    private func sendStatus(chatID: Int64, context: CommandContext) async throws {
        let text: String
        if let best = context.entitlements.first {
            text = "Your plan: \(best.plan) (\(best.status.rawValue)) until \(best.expiresAt.ISO8601Format())."
        } else {
            text = "You have no active plan. Send /buy to get one."
        }
        _ = try await bot.sendMessage(SendMessageRequest(chatID: .id(chatID), text: text), retry: Self.replyRetry)
    }

    private func claimOnly(_ update: TelegramUpdate, kind: String) async throws {
        let updateID = update.updateID
        let claimed = try await pool.transaction { try await TelegramUpdateLog.claim($0, updateID: updateID, kind: kind) }
        webhookMetrics.record(claimed ? .ignored : .duplicate)
    }

    static func profile(_ user: TelegramUser) -> TelegramProfile {
        TelegramProfile(
            telegramID: user.id, username: user.username, firstName: user.firstName, lastName: user.lastName,
            languageCode: user.languageCode, isPremium: user.isPremium)
    }
}
