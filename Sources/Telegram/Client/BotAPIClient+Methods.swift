/// The typed Bot API methods the server uses. Each throws `BotAPIError` (or `CancellationError`).
extension BotAPIClient {
    /// Sends a text message, optionally with an inline keyboard.
    /// - Parameters:
    ///   - request: Chat, text and options.
    ///   - retry: A retry policy for this call instead of the configured one.
    /// - Returns: The sent message.
    @discardableResult
    public func sendMessage(_ request: SendMessageRequest, retry: BotAPIRetryPolicy? = nil) async throws
        -> TelegramMessage
    {
        try await call("sendMessage", body: request, as: TelegramMessage.self, retry: retry)
    }

    /// Sends an invoice message (see `SendInvoiceRequest.stars`).
    /// - Parameters:
    ///   - request: The invoice.
    ///   - retry: A retry policy for this call instead of the configured one.
    /// - Returns: The invoice message.
    @discardableResult
    public func sendInvoice(_ request: SendInvoiceRequest, retry: BotAPIRetryPolicy? = nil) async throws
        -> TelegramMessage
    {
        try await call("sendInvoice", body: request, as: TelegramMessage.self, retry: retry)
    }

    /// Creates an invoice link (see `CreateInvoiceLinkRequest.stars`).
    /// - Parameters:
    ///   - request: The invoice.
    ///   - retry: A retry policy for this call instead of the configured one.
    /// - Returns: The link, such as `https://t.me/$AbCd…`.
    public func createInvoiceLink(_ request: CreateInvoiceLinkRequest, retry: BotAPIRetryPolicy? = nil)
        async throws -> String
    {
        try await call("createInvoiceLink", body: request, as: String.self, retry: retry)
    }

    /// Answers a pre-checkout query (must happen within 10 s of the update).
    /// - Parameters:
    ///   - request: `.accept(id)` or `.reject(id, message:)`.
    ///   - retry: A retry policy for this call instead of the configured one.
    public func answerPreCheckoutQuery(_ request: AnswerPreCheckoutQueryRequest, retry: BotAPIRetryPolicy? = nil)
        async throws
    {
        _ = try await call("answerPreCheckoutQuery", body: request, as: Bool.self, retry: retry)
    }

    /// Answers a callback query (stops the button's spinner, optionally shows text or opens a URL).
    /// - Parameters:
    ///   - request: The answer.
    ///   - retry: A retry policy for this call instead of the configured one.
    public func answerCallbackQuery(_ request: AnswerCallbackQueryRequest, retry: BotAPIRetryPolicy? = nil)
        async throws
    {
        _ = try await call("answerCallbackQuery", body: request, as: Bool.self, retry: retry)
    }

    /// Refunds a Stars payment. A second refund of one charge fails with an API error whose description contains
    /// `CHARGE_ALREADY_REFUNDED`.
    /// - Parameters:
    ///   - request: Buyer and charge.
    ///   - retry: A retry policy for this call instead of the configured one.
    public func refundStarPayment(_ request: RefundStarPaymentRequest, retry: BotAPIRetryPolicy? = nil)
        async throws
    {
        _ = try await call("refundStarPayment", body: request, as: Bool.self, retry: retry)
    }

    /// Cancels or re-enables the renewal of a user's Stars subscription.
    /// - Parameters:
    ///   - request: Buyer, charge and the new state.
    ///   - retry: A retry policy for this call instead of the configured one.
    public func editUserStarSubscription(
        _ request: EditUserStarSubscriptionRequest,
        retry: BotAPIRetryPolicy? = nil
    ) async throws {
        _ = try await call("editUserStarSubscription", body: request, as: Bool.self, retry: retry)
    }

    /// Lists the bot's Stars transactions, oldest first.
    /// - Parameters:
    ///   - request: Offset and limit.
    ///   - retry: A retry policy for this call instead of the configured one.
    /// - Returns: One page of transactions.
    public func getStarTransactions(
        _ request: GetStarTransactionsRequest = GetStarTransactionsRequest(),
        retry: BotAPIRetryPolicy? = nil
    ) async throws -> StarTransactions {
        try await call("getStarTransactions", body: request, as: StarTransactions.self, retry: retry)
    }
}
