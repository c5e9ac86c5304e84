import Billing
import Foundation
import Logging
import PGClient

/// Callback queries (the `/buy` buttons, the hook's CTAs) and the bot's commands.
extension TelegramUpdateDispatcher {
    func callback(_ update: TelegramUpdate, _ query: CallbackQuery, logger: Logger) async throws {
        if let data = query.data, data.hasPrefix(Self.buyCallbackPrefix) {
            return try await buyCallback(update, query, plan: String(data.dropFirst(Self.buyCallbackPrefix.count)), logger: logger)
        }
        let capture = hook?.capture(callbackQuery: query)
        let updateID = update.updateID
        let recorded = try await pool.transaction { tx -> Bool in
            guard try await TelegramUpdateLog.claim(tx, updateID: updateID, kind: "callback_query") else { return false }
            guard let capture else { return true }
            try await capture.record(tx)
            return true
        }
        if recorded, let capture { capture.committed() }
        webhookMetrics.record(recorded ? (capture == nil ? .ignored : .processed) : .duplicate)
        guard recorded else { return }
        do {
            _ = try await bot.answerCallbackQuery(
                AnswerCallbackQueryRequest(callbackQueryID: query.id, text: capture == nil ? nil : "Thanks!"),
                retry: Self.replyRetry)
        } catch {
            logger.warning("answerCallbackQuery failed", metadata: ["error": "\(error)"])
        }
    }

    func command(_ update: TelegramUpdate, _ message: TelegramMessage, _ text: String, logger: Logger) async throws {
        guard let from = message.from else { return try await claimOnly(update, kind: "message") }
        let word = text.split(separator: " ").first.map { String($0.split(separator: "@").first ?? $0) } ?? ""
        let updateID = update.updateID
        let profile = from.profile
        let capture = word == "/start" ? hook?.capture(startCommand: text, from: from) : nil
        let context = try await pool.transaction { tx -> CommandContext? in
            guard try await TelegramUpdateLog.claim(tx, updateID: updateID, kind: "command") else { return nil }
            let user = try await UserStore.upsert(tx, profile: profile)
            if let capture { try await capture.record(tx) }
            return CommandContext(
                userID: user.id, plans: try await PlanStore.activePlans(tx),
                entitlements: try await EntitlementStore.active(tx, userID: user.id))
        }
        guard let context else {
            webhookMetrics.record(.duplicate)
            return
        }
        if let capture { capture.committed() }
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
    func sendPlanChoice(chatID: Int64, plans: [Plan]) async throws {
        let sellable = plans.filter { $0.starsPrice != nil && (Self.buyCallbackPrefix + $0.code).utf8.count <= 64 }
        guard !sellable.isEmpty else { return try await reply(chatID: chatID, "Nothing is for sale right now.") }
        let buttons = sellable.map { plan in
            [
                InlineKeyboardButton.callback(
                    "\(plan.name): \(plan.starsPrice ?? 0) ⭐\(plan.recurring ? " / \(plan.periodDays) days" : "")",
                    data: Self.buyCallbackPrefix + plan.code)
            ]
        }
        _ = try await bot.sendMessage(
            SendMessageRequest(chatID: .id(chatID), text: "Choose a plan:", replyMarkup: InlineKeyboardMarkup(buttons)),
            retry: Self.replyRetry)
    }

    /// A `/buy` button: answers the callback, then sends the plan's invoice — for a recurring plan a Stars
    /// subscription link (`createInvoiceLink` with `subscription_period`) in a message with a pay button, otherwise
    /// an invoice message (`sendInvoice`). Handled once per `update_id`.
    func buyCallback(_ update: TelegramUpdate, _ query: CallbackQuery, plan code: String, logger: Logger)
        async throws
    {
        let updateID = update.updateID
        let profile = query.from.profile
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

    func reply(chatID: Int64, _ text: String) async throws {
        _ = try await bot.sendMessage(SendMessageRequest(chatID: .id(chatID), text: text), retry: Self.replyRetry)
    }

    func sendStatus(chatID: Int64, context: CommandContext) async throws {
        let text: String
        if let best = context.entitlements.first {
            text = "Your plan: \(best.plan) (\(best.status.rawValue)) until \(best.expiresAt.ISO8601Format())."
        } else {
            text = "You have no active plan. Send /buy to get one."
        }
        _ = try await bot.sendMessage(SendMessageRequest(chatID: .id(chatID), text: text), retry: Self.replyRetry)
    }
}
