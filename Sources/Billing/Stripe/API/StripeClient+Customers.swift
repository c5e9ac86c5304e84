extension StripeClient {
    /// Creates a customer: `POST /v1/customers`.
    /// - Parameters:
    ///   - email: optional e-mail.
    ///   - name: optional display name.
    ///   - metadata: `metadata[…]` (put `user_id` here so the Dashboard links back to our user).
    ///   - idempotencyKey: one per user (for instance `customer-<user id>`), so a retry or a second request never
    ///     creates a second customer. Without it the request is never retried.
    /// - Returns: the created customer (or the one created earlier with the same key).
    /// - Throws: `StripeAPIError`.
    public func createCustomer(
        email: String? = nil, name: String? = nil, metadata: [String: String] = [:], idempotencyKey: String?
    ) async throws -> StripeCustomer {
        var form = StripeForm()
        form.add("email", email)
        form.add("name", name)
        form.add("metadata", metadata: metadata)
        return try await send(.post, "/v1/customers", form: form, idempotencyKey: idempotencyKey)
    }

    /// Fetches a subscription: `GET /v1/subscriptions/{id}` (retried like any GET).
    /// - Throws: `StripeAPIError` (`.invalidRequest` with code `resource_missing` when there is none).
    public func retrieveSubscription(_ id: String) async throws -> StripeSubscription {
        try await send(.get, "/v1/subscriptions/" + StripeForm.encode(id, keepBrackets: false))
    }
}
