import PGClient
import Support
import Telegram

/// What a captured CTA click produced.
public struct CTACaptureResult: Sendable, Equatable {
    /// The user (created on first sight).
    public var userID: Int64
    /// The `marketing_clicks` row.
    public var clickID: Int64

    public init(userID: Int64, clickID: Int64) {
        self.userID = userID
        self.clickID = clickID
    }
}

/// Logs CTA clicks that arrive through Telegram: a `callback_query` with `cta:` data (user from `from.id`) or a
/// `/start cta_<name>` deep link. The user is provisioned if new, and the click is written in the same
/// transaction.
///
/// The webhook parses with `CTAParser`, calls `record`, then answers the callback query itself
/// (`answerCallbackQuery`, never inside a transaction).
public struct CTACapture: Sendable {
    let pool: PGPool
    let metrics: MarketingMetrics

    public init(pool: PGPool, metrics: MarketingMetrics = MarketingMetrics()) {
        self.pool = pool
        self.metrics = metrics
    }

    /// Provisions the user and logs the click in one transaction, then counts it in `marketing_clicks_total`.
    /// - Parameters:
    ///   - telegramID: `from.id` of the update.
    ///   - user: `from` of the update, to create or refresh the user's names; nil only ensures the user exists.
    ///   - cta: the parsed CTA; its name becomes `cta_type`, its campaign `utm_campaign`.
    ///   - channel: where the click happened (for example `@mychannel` or a chat id); nil stores `telegram`.
    ///   - metadata: extra JSON stored with the click (`via` is set to the CTA's source).
    public func record(
        telegramID: Int64, from user: TelegramUser?, cta: CTA, channel: String? = nil,
        metadata: [String: JSONValue] = [:]
    ) async throws -> CTACaptureResult {
        let result = try await pool.transaction { tx in
            try await CTACapture.record(tx, telegramID: telegramID, from: user, cta: cta, channel: channel, metadata: metadata)
        }
        metrics.recordClicks(ctaType: cta.name)
        return result
    }

    /// The same inside the caller's transaction (for example the webhook's, which also records the `update_id`).
    /// Does not count the metric: call `MarketingMetrics().recordClicks(ctaType:)` after the commit.
    public static func record(
        _ tx: PGConnection, telegramID: Int64, from user: TelegramUser?, cta: CTA, channel: String? = nil,
        metadata: [String: JSONValue] = [:]
    ) async throws -> CTACaptureResult {
        let userID = try await TelegramUsers.provision(tx, telegramID: telegramID, from: user)
        var extra = metadata
        extra["via"] = .string(cta.source.rawValue)
        let click = NewClick(
            ctaType: cta.name, channel: channel ?? "telegram", utmSource: "telegram", utmCampaign: cta.campaign,
            metadata: extra)
        let clickID = try await ClickStore.insert(tx, userID: userID, click: click)
        return CTACaptureResult(userID: userID, clickID: clickID)
    }
}
