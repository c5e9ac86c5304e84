extension StripeClient {
    /// Creates a hosted Checkout Session: `POST /v1/checkout/sessions`.
    ///
    /// Sends `mode`, `line_items[0][price]`, `line_items[0][quantity]`, `client_reference_id` (the user id),
    /// `metadata[user_id]` and `metadata[plan]`, and the same two in `subscription_data[metadata]` (subscription mode,
    /// so later subscription and invoice events carry them) or `payment_intent_data[metadata]` (payment mode, so the
    /// charge and its refund carry them). `success_url` and `cancel_url` are `publicBaseURL` + the configured paths.
    /// - Parameters:
    ///   - userID: our user id.
    ///   - plan: the plan code.
    ///   - priceID: the plan's Stripe price.
    ///   - mode: `.subscription` for recurring plans, `.payment` for one-time ones.
    ///   - customer: the user's Stripe customer, when known.
    ///   - quantity: 1 unless told otherwise.
    ///   - metadata: extra metadata; `user_id` and `plan` always win.
    ///   - successPath: overrides `configuration.checkoutSuccessPath`.
    ///   - cancelPath: overrides `configuration.checkoutCancelPath`.
    ///   - options: the plan's catalog options: `subscription_data[trial_period_days]` (subscription mode),
    ///     `allow_promotion_codes`, `automatic_tax[enabled]`; each sent only when set.
    ///   - idempotencyKey: repeat the same key to get the same session back (and to allow retries).
    /// - Returns: the session id and its URL.
    /// - Throws: `StripeAPIError`; `.invalidRequest` without a call when `mode` is neither subscription nor payment.
    public func createCheckoutSession(
        userID: Int64, plan: String, priceID: String, mode: StripeCheckoutMode, customer: String? = nil,
        quantity: Int = 1, metadata: [String: String] = [:], successPath: String? = nil, cancelPath: String? = nil,
        options: PlanCheckoutOptions = PlanCheckoutOptions(), idempotencyKey: String?
    ) async throws -> StripeCheckoutSessionLink {
        guard mode == .subscription || mode == .payment else {
            throw StripeAPIError(kind: .invalidRequest, param: "mode", attempts: 0)
        }
        var sessionMetadata = metadata
        sessionMetadata[StripeMetadataKey.userID] = String(userID)
        sessionMetadata[StripeMetadataKey.plan] = plan
        var form = StripeForm()
        form.add("mode", mode.rawValue)
        form.add("customer", customer)
        form.add("client_reference_id", String(userID))
        form.add("line_items[0][price]", priceID)
        form.add("line_items[0][quantity]", quantity)
        form.add("metadata", metadata: sessionMetadata)
        if mode == .subscription {
            form.add("subscription_data[metadata]", metadata: sessionMetadata)
            if let trialDays = options.trialDays { form.add("subscription_data[trial_period_days]", trialDays) }
        } else {
            form.add("payment_intent_data[metadata]", metadata: sessionMetadata)
        }
        if options.allowPromotionCodes { form.add("allow_promotion_codes", "true") }
        if options.automaticTax { form.add("automatic_tax[enabled]", "true") }
        form.add("success_url", configuration.publicURL(successPath ?? configuration.checkoutSuccessPath))
        form.add("cancel_url", configuration.publicURL(cancelPath ?? configuration.checkoutCancelPath))
        return try await send(.post, "/v1/checkout/sessions", form: form, idempotencyKey: idempotencyKey)
    }
}
