import Telegram

/// Marketing's part in the Telegram webhook: a `cta:` callback button or a `/start cta_…` link is a click, written
/// in the update's transaction (`CTACapture.record`) and counted in `marketing_clicks_total` after the commit.
public struct CTAUpdateHook: TelegramUpdateHook {
    let metrics: MarketingMetrics

    /// - Parameter metrics: where committed clicks are counted.
    public init(metrics: MarketingMetrics) {
        self.metrics = metrics
    }

    /// A `cta:<name>[:<campaign>]` button; the click's channel is the chat the button was in.
    public func capture(callbackQuery query: CallbackQuery) -> TelegramUpdateCapture? {
        guard let cta = query.data.flatMap(CTAParser.parseCallbackData) else { return nil }
        let channel = query.message.map { String($0.chat.id) }
        return capture(cta, telegramID: query.from.id, from: query.from, channel: channel)
    }

    /// `/start cta_<name>[-<campaign>]`; the click's channel is `bot`.
    public func capture(startCommand text: String, from user: TelegramUser) -> TelegramUpdateCapture? {
        guard let cta = CTAParser.parseStartCommand(text) else { return nil }
        return capture(cta, telegramID: user.id, from: user, channel: "bot")
    }

    private func capture(_ cta: CTA, telegramID: Int64, from user: TelegramUser, channel: String?) -> TelegramUpdateCapture {
        let metrics = self.metrics
        return TelegramUpdateCapture(
            record: { tx in
                _ = try await CTACapture.record(tx, telegramID: telegramID, from: user, cta: cta, channel: channel)
            },
            committed: { metrics.recordClicks(ctaType: cta.name) })
    }
}
