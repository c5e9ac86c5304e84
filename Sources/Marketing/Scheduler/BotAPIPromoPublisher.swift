import Telegram

/// Posts promos with the Bot API's `sendMessage`, one attempt per call (`BotAPIRetryPolicy.none`): the scheduler
/// decides about retries, because repeating a send whose outcome is unknown could post twice.
///
/// How `BotAPIError` is classified:
/// - 429 → `.rateLimited` with `retry_after` (1 s when absent);
/// - other answers with a 5xx code → `.temporary` (Telegram answered that the call failed);
/// - other answers (4xx: chat not found, not enough rights, bad markup) and encoding errors → `.permanent`;
/// - timeouts, transport errors and undecodable successes → `.outcomeUnknown` (the message may exist).
public struct BotAPIPromoPublisher: PromoPublisher {
    let client: BotAPIClient

    public init(client: BotAPIClient) {
        self.client = client
    }

    public func publish(chatID: String, text: String, buttons: [[PromoButton]]) async throws -> Int64 {
        let keyboard = buttons.isEmpty ? nil : InlineKeyboardMarkup(buttons.map { $0.map(Self.button) })
        let request = SendMessageRequest(chatID: ChatID(chatID), text: text, replyMarkup: keyboard)
        do {
            return try await client.sendMessage(request, retry: BotAPIRetryPolicy.none).messageID
        } catch let error as BotAPIError {
            throw Self.classify(error)
        }
    }

    static func button(_ button: PromoButton) -> InlineKeyboardButton {
        switch button.action {
        case .callback(let data): .callback(button.text, data: data)
        case .url(let url): .url(button.text, url: url)
        }
    }

    /// What a failed `sendMessage` means for a retry.
    public static func classify(_ error: BotAPIError) -> PromoPublishError {
        let message = error.description
        if error.isRateLimited {
            return PromoPublishError(kind: .rateLimited, retryAfter: .seconds(max(1, error.retryAfter ?? 1)), message: message)
        }
        switch error.kind {
        case .api, .http:
            return PromoPublishError(kind: (error.errorCode ?? 0) >= 500 ? .temporary : .permanent, message: message)
        case .encoding:
            return PromoPublishError(kind: .permanent, message: message)
        case .transport, .timeout, .decoding:
            return PromoPublishError(kind: .outcomeUnknown, message: message)
        }
    }
}
