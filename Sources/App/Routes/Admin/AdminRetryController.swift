import Billing
import Foundation
import Hummingbird
import Logging
import PGClient
import Telegram

/// `POST /admin/v1/payment-events/{id}/retry`: reprocesses a `failed` or `dead` Stripe event (see
/// `StripeWebhookProcessor.retry(id:)`) or Stars payment (`StarsPaymentRetry`) now. Behind `ADMIN_TOKEN`, absent
/// when it is unset.
///
/// Answers: 200 `{"id", "outcome"}` (`processed`, `ignored`, or `failed` when it failed again); 404 when there is no
/// such ledger row; 409 when the row is not a failed or dead Stripe event or Stars payment (already processed,
/// ignored, a refund, or being retried by someone else right now and done by the time the lock was free).
struct AdminRetryController: AppModule, Sendable {
    struct RetryResponse: ResponseEncodable, Sendable {
        var id: Int64
        var outcome: String
    }

    let pool: PGPool
    let processor: StripeWebhookProcessor
    let stars: StarsPaymentRetry

    static func addRoutes(to router: AppRouter, config: AppConfig, dependencies: AppDependencies) {
        guard let token = config.adminToken else { return }
        let pool = dependencies.pool
        let stars = StarsPaymentRetry(
            pool: pool,
            resolver: StarsPaymentResolver(pool: pool, signer: StarsInvoicePayloadSigner(botToken: config.telegramBotToken)))
        Self(pool: pool, processor: dependencies.clients(config).stripeProcessor, stars: stars).addRoutes(
            to: router.group("/admin/v1/payment-events").add(middleware: AdminAuthMiddleware(token: token)))
    }

    func addRoutes(to admin: RouterGroup<AppRequestContext>) {
        admin.post("/:id/retry", use: retry)
    }

    @Sendable func retry(_ request: Request, context: AppRequestContext) async throws -> RetryResponse {
        guard let text = context.parameters.get("id"), let id = Int64(text), id > 0 else {
            throw ProblemError.notFound("no such payment event")
        }
        if let (retried, outcome) = try await processor.retry(id: id) {
            context.logger.notice(
                "admin retried payment event",
                metadata: ["action": "payment_event_retry", "payment_event_id": "\(retried)", "outcome": "\(outcome.rawValue)"])
            return RetryResponse(id: retried, outcome: outcome.rawValue)
        }
        if let outcome = try await stars.retry(id: id) {
            let text =
                switch outcome {
                case .applied(let changed): changed ? "processed" : "ignored"
                case .failed: "failed"
                }
            context.logger.notice(
                "admin retried payment event",
                metadata: ["action": "payment_event_retry", "payment_event_id": "\(id)", "outcome": "\(text)"])
            return RetryResponse(id: id, outcome: text)
        }
        let existing = try await pool.withConnection { connection in try await PaymentLedger.find(connection, id: id) }
        guard let existing else { throw ProblemError.notFound("no such payment event") }
        throw ProblemError.conflict(
            "payment event \(id) is \(existing.status.rawValue) (\(existing.provider.rawValue)); only failed or dead Stripe events and Stars payments can be retried"
        )
    }
}
