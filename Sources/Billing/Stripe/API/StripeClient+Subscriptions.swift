import Foundation

extension StripeClient {
    /// Schedules or unschedules the end of a subscription at the end of its paid period:
    /// `POST /v1/subscriptions/{id}` with `cancel_at_period_end`.
    /// - Parameters:
    ///   - id: the subscription (`sub_…`).
    ///   - cancelAtPeriodEnd: true stops renewal at the period's end; false resumes it.
    ///   - idempotencyKey: a fresh key per request (a key reused for a later, opposite change would get the stored
    ///     answer of the first one back from Stripe); with it the request may be retried.
    /// - Returns: the subscription as Stripe holds it afterwards.
    /// - Throws: `StripeAPIError`.
    public func updateSubscription(id: String, cancelAtPeriodEnd: Bool, idempotencyKey: String? = nil) async throws
        -> StripeSubscription
    {
        var form = StripeForm()
        form.add("cancel_at_period_end", cancelAtPeriodEnd ? "true" : "false")
        let path = "/v1/subscriptions/" + (id.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(["_", "-"])) ?? id)
        return try await send(.post, path, form: form, idempotencyKey: idempotencyKey)
    }
}
