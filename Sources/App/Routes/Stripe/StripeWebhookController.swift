import Billing
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import PGClient

/// `POST /webhooks/stripe`: signature (any v1, any configured secret, tolerance both ways) → 400 and nothing
/// written when bad; then store-then-process once per event id. 200 for processed, duplicate, ignored and
/// failed-but-stored events; 503 only when the event could not be stored, so Stripe retries. With `STRIPE_LIVEMODE`
/// set, an event of the other mode is answered 200 `rejected` and not stored.
struct StripeWebhookController: Sendable {
    static let signatureHeader = RequestHeader.stripeSignature

    let verifier: StripeSignatureVerifier
    let processor: StripeWebhookProcessor
    let metrics: WebhookMetrics
    let pool: PGPool
    /// False without `STRIPE_WEBHOOK_SECRET`: every delivery is 503.
    let enabled: Bool
    /// `STRIPE_LIVEMODE`: events of the other mode are rejected; nil accepts both.
    let livemode: Bool?
    let answers = Answers()

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
            let body =
                switch outcome {
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

    func addRoutes(to router: AppRouter) {
        router.post("/webhooks/stripe", use: receive)
    }

    @Sendable func receive(_ request: Request, context: AppRequestContext) async throws -> Response {
        guard enabled else {
            throw ProblemError.serviceUnavailable("Stripe webhooks are not configured (STRIPE_WEBHOOK_SECRET)", retryAfterSeconds: 60)
        }
        let body = Data(buffer: try await request.body.collect(upTo: HTTPLimits.maxBodyBytes))
        do {
            _ = try verifier.verify(payload: body, header: Self.signatureHeader.value(in: request.headers))
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
        if let livemode, event.livemode != livemode {
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

    /// Stores an authenticated body that cannot be applied; 503 (Stripe redelivers) only when even that fails.
    private func keepRaw(_ body: Data, eventID: String?, type: String, error: String) async throws {
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
}
