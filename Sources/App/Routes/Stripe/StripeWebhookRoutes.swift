import Billing
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import PGClient
import ServiceLifecycle

/// `POST /webhooks/stripe`: signature (any v1, any configured secret, tolerance both ways) → 400 and nothing
/// written when bad; then store-then-process once per event id. 200 for processed, duplicate, ignored and
/// failed-but-stored events; 503 only when the event could not be stored, so Stripe retries. With `STRIPE_LIVEMODE`
/// set, an event of the other mode is answered 200 `rejected` and not stored.
enum StripeWebhookRoutes: AppModule {
    static let signatureHeader = HTTPField.Name("Stripe-Signature") ?? .authorization

    /// The 200 answer, `{"received":true,"outcome":"…"}`: one of four fixed bodies, built once instead of running
    /// a JSONEncoder per delivery (it showed in the webhook profile).
    struct Answers: Sendable {
        private let processed = Self.body(.processed)
        private let duplicate = Self.body(.duplicate)
        private let ignored = Self.body(.ignored)
        private let failed = Self.body(.failed)
        private let rejectedBody = ByteBuffer(string: #"{"received":true,"outcome":"rejected"}"#)

        /// `STRIPE_LIVEMODE` refused the event's mode: 200, nothing stored.
        func rejected() -> Response {
            Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: rejectedBody))
        }

        func response(_ outcome: StripeWebhookProcessor.Outcome) -> Response {
            let body = switch outcome {
            case .processed: processed
            case .duplicate: duplicate
            case .ignored: ignored
            case .failed: failed
            }
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: body))
        }

        private static func body(_ outcome: StripeWebhookProcessor.Outcome) -> ByteBuffer {
            ByteBuffer(string: #"{"received":true,"outcome":""# + outcome.rawValue + #""}"#)
        }
    }

    static func addRoutes(to router: AppRouter, config: AppConfig, dependencies: AppDependencies) {
        let metrics = WebhookMetrics(provider: "stripe", factory: dependencies.metrics.factory)
        let verifier = StripeSignatureVerifier(
            secrets: config.stripeWebhookSecrets, toleranceSeconds: Int64(config.stripeWebhookTolerance))
        let processor = makeProcessor(config: config, dependencies: dependencies)
        let enabled = !config.stripeWebhookSecrets.isEmpty
        let answers = Answers()
        let pool = dependencies.pool
        /// Stores an authenticated body that cannot be applied; 503 (Stripe redelivers) only when even that fails.
        @Sendable func keepRaw(_ body: Data, eventID: String?, type: String, error: String) async throws {
            do {
                try await pool.withConnection { connection in
                    try await PaymentLedger.recordRaw(
                        connection, provider: .stripe, eventID: eventID, eventType: type, body: body, error: error)
                }
            } catch {
                metrics.record(.failed)
                throw ProblemError.serviceUnavailable("the event could not be stored; retry later", retryAfterSeconds: 5)
            }
        }
        router.post("/webhooks/stripe") { request, context in
            guard enabled else {
                throw ProblemError.serviceUnavailable("Stripe webhooks are not configured (STRIPE_WEBHOOK_SECRET)", retryAfterSeconds: 60)
            }
            let body = Data(buffer: try await request.body.collect(upTo: HTTPLimits.maxBodyBytes))
            do {
                _ = try verifier.verify(payload: body, header: request.headers[signatureHeader])
            } catch {
                metrics.record(.rejected)
                throw ProblemError.badRequest("Stripe-Signature is missing or does not match: \(error)")
            }
            let event: StripeEvent
            do {
                event = try StripeEvent(decoding: body)
            } catch {
                // Signed by Stripe, so it is Stripe's: kept raw (dead) rather than lost, for an operator to read.
                try await keepRaw(body, eventID: RawWebhookBody.field("id", in: body), type: "undecodable", error: "\(error)")
                metrics.record(.failed)
                context.logger.error("signed Stripe body that is not an event kept as dead", metadata: ["error": "\(error)"])
                return answers.response(.failed)
            }
            if let livemode = config.stripeLivemode, event.livemode != livemode {
                // STRIPE_LIVEMODE: an event of the other mode (a test event at a live endpoint, or the reverse)
                // changes nothing and is not stored; 200 so Stripe does not redeliver it.
                metrics.record(.rejected)
                context.logger.warning(
                    "Stripe event of the other mode rejected",
                    metadata: ["event_id": "\(event.id)", "event_livemode": "\(event.livemode)", "stripe_livemode": "\(livemode)"])
                return answers.rejected()
            }
            let outcome: StripeWebhookProcessor.Outcome
            do {
                outcome = try await processor.receive(event, rawBody: String(decoding: body, as: UTF8.self))
            } catch let error as PGError where error.isRejectedValue {
                // A value PostgreSQL can never store as given (a \u0000 in the JSON, an id too long to index): kept raw
                // and dead instead, so the signed event is not lost; retrying the delivery cannot help.
                try await keepRaw(body, eventID: event.id, type: event.type.rawValue, error: "\(error)")
                metrics.record(.failed)
                context.logger.error(
                    "Stripe event the database cannot store as jsonb kept raw as dead", metadata: ["event_id": "\(event.id)"])
                return answers.response(.failed)
            } catch {
                metrics.record(.failed)
                throw ProblemError.serviceUnavailable("the event could not be stored; retry later", retryAfterSeconds: 5)
            }
            switch outcome {
            case .processed: metrics.record(.processed)
            case .duplicate: metrics.record(.duplicate)
            case .ignored: metrics.record(.ignored)
            case .failed: metrics.record(.failed)
            }
            return answers.response(outcome)
        }
    }

    static func services(config: AppConfig, dependencies: AppDependencies) -> [any Service] {
        [
            StripeRetryWorker(
                processor: makeProcessor(config: config, dependencies: dependencies), logger: dependencies.logger,
                metricsFactory: dependencies.metrics.factory)
        ]
    }

    /// The processor every Stripe path shares (webhook, retry worker, operator retry): `PAST_DUE_GRACE_DAYS`, and the
    /// Stripe client that finds the invoice of a refunded payment intent when the charge does not name it.
    static func makeProcessor(config: AppConfig, dependencies: AppDependencies) -> StripeWebhookProcessor {
        var lookup: (@Sendable (String) async throws -> String?)?
        if let stripe = StripeClientFactory.make(config: config, dependencies: dependencies) {
            lookup = { paymentIntent in try await stripe.invoiceID(forPaymentIntent: paymentIntent) }
        }
        let grace = Duration.seconds(Int64(config.pastDueGraceDays) * 86_400)
        return StripeWebhookProcessor(
            pool: dependencies.pool, logger: dependencies.logger, metricsFactory: dependencies.metrics.factory,
            options: StripeHandlingOptions(pastDueGrace: grace), invoiceLookup: lookup)
    }
}
