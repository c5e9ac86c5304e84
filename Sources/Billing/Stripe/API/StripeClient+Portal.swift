extension StripeClient {
    /// Creates a billing-portal session: `POST /v1/billing_portal/sessions`.
    /// - Parameters:
    ///   - customer: the user's Stripe customer (`cus_…`).
    ///   - returnPath: overrides `configuration.portalReturnPath`; the `return_url` is `publicBaseURL` + it.
    ///   - idempotencyKey: optional; without it the request is never retried.
    /// - Returns: the session id and its URL.
    /// - Throws: `StripeAPIError`.
    public func createBillingPortalSession(
        customer: String, returnPath: String? = nil, idempotencyKey: String? = nil
    ) async throws -> StripeBillingPortalSession {
        var form = StripeForm()
        form.add("customer", customer)
        form.add("return_url", configuration.publicURL(returnPath ?? configuration.portalReturnPath))
        return try await send(.post, "/v1/billing_portal/sessions", form: form, idempotencyKey: idempotencyKey)
    }
}
