import Billing
import Foundation
import HTTPTypes
import Hummingbird
import Logging

/// `POST /admin/v1/stripe/refunds` `{"invoice_id"|"payment_intent", "reason"}`: refunds a Stripe payment in full
/// through `POST /v1/refunds` (with an idempotency key) and ends what it bought, once (see `StripeAdminRefund`).
/// Behind `ADMIN_TOKEN`, absent when it is unset.
///
/// Answers: 200 `{"refunded": true, "payment", "refund_id", "amount", "currency", "status", "user_id",
/// "entitlements": [{"plan", "status"}]}` (with `"already": true` when it had been refunded before); 400 for a bad
/// body (nothing written); 404 for a payment the books do not know; 409 while another request refunds it; 502 when
/// Stripe refused or failed (a later request may retry); 503 when `STRIPE_API_KEY` is not set.
struct AdminStripeRefundController: AppModule, Sendable {
    /// nil without `STRIPE_API_KEY`: every refund is 503.
    let refunds: StripeAdminRefund?

    static func addRoutes(to router: AppRouter, config: AppConfig, dependencies: AppDependencies) {
        guard let token = config.adminToken else { return }
        let refunds = dependencies.clients(config).stripe.map { StripeAdminRefund(pool: dependencies.pool, stripe: $0) }
        Self(refunds: refunds).addRoutes(
            to: router.group("/admin/v1/stripe").add(middleware: AdminAuthMiddleware(token: token)))
    }

    func addRoutes(to admin: RouterGroup<AppRequestContext>) {
        admin.post("/refunds", use: refund)
    }

    @Sendable func refund(_ request: Request, context: AppRequestContext) async throws -> AdminStripeRefundResponse {
        let body = try await request.decode(as: AdminStripeRefundRequest.self, context: context)
        let ref = try body.validRef()
        let reason = try body.validReason()
        guard let refunds else { throw ProblemError.serviceUnavailable("Stripe is not configured (STRIPE_API_KEY)") }
        var logger = context.logger
        logger[metadataKey: "action"] = "stripe_refund"
        logger[metadataKey: "payment"] = "\(ref)"
        do {
            let outcome = try await refunds.refund(
                ref: ref, reason: reason, requestedBy: "admin request \(context.requestID.prefix(64))", logger: logger)
            logger.notice(
                "admin refunded Stripe payment",
                metadata: [
                    "user_id": "\(outcome.target.userID)", "already": "\(outcome.already)",
                    "refund_id": "\(outcome.refund?.id ?? "none")",
                    "entitlements": "\(outcome.entitlements.map { "\($0.plan)=\($0.status)" }.joined(separator: ","))",
                ])
            return AdminStripeRefundResponse(outcome)
        } catch let error as StripeAdminRefundError {
            logger.warning("admin refund of Stripe payment not done", metadata: ["reason": "\(error.problem.detail)"])
            throw error
        }
    }
}

/// Body of `POST /admin/v1/stripe/refunds`.
struct AdminStripeRefundRequest: Decodable, Sendable {
    var invoiceID: String?
    var paymentIntent: String?
    var reason: String?

    enum CodingKeys: String, CodingKey {
        case invoiceID = "invoice_id"
        case paymentIntent = "payment_intent"
        case reason
    }

    /// Stripe's refund reasons.
    static let reasons = ["duplicate", "fraudulent", "requested_by_customer"]

    /// The payment's ref: `in:<invoice_id>` or `pi:<payment_intent>`; exactly one must be given, 1–255 visible
    /// ASCII characters.
    func validRef() throws(ProblemError) -> String {
        switch (invoiceID, paymentIntent) {
        case (let id?, nil): return "in:" + (try Self.validID(id, name: "invoice_id"))
        case (nil, let id?): return "pi:" + (try Self.validID(id, name: "payment_intent"))
        default: throw ProblemError.badRequest("give exactly one of invoice_id or payment_intent")
        }
    }

    func validReason() throws(ProblemError) -> String? {
        guard let reason else { return nil }
        guard Self.reasons.contains(reason) else {
            throw ProblemError.badRequest("reason must be one of \(Self.reasons.joined(separator: ", "))")
        }
        return reason
    }

    private static func validID(_ id: String, name: String) throws(ProblemError) -> String {
        guard (1...255).contains(id.count), id.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F }) else {
            throw ProblemError.badRequest("\(name) must be 1 to 255 visible ASCII characters")
        }
        return id
    }
}

/// 200 answer of a Stripe refund.
struct AdminStripeRefundResponse: ResponseEncodable, Sendable {
    struct PlanStatus: Encodable, Sendable {
        var plan: String
        var status: String
    }

    var refunded = true
    /// Set (true) only when the payment had been refunded before this request.
    @Nullable var already: Bool?
    var payment: String
    @Nullable var refund_id: String?
    @Nullable var amount: Int64?
    @Nullable var currency: String?
    @Nullable var status: String?
    var user_id: Int64
    var entitlements: [PlanStatus]

    init(_ outcome: StripeAdminRefund.Outcome) {
        already = outcome.already ? true : nil
        payment = outcome.target.ref
        refund_id = outcome.refund?.id
        amount = outcome.refund?.amount ?? outcome.target.amount
        currency = (outcome.refund?.currency ?? outcome.target.currency)?.lowercased()
        status = outcome.refund?.status
        user_id = outcome.target.userID
        entitlements = outcome.entitlements.map { PlanStatus(plan: $0.plan, status: $0.status) }
    }
}

extension StripeAdminRefundError: ProblemConvertible {
    var problem: ProblemError {
        switch self {
        case .unknownPayment:
            .notFound("no Stripe payment with this invoice_id or payment_intent")
        case .inProgress:
            .conflict("a refund of this payment is in progress; try again shortly")
        case .noPayment:
            .unprocessable("Stripe names no payment intent or charge for this invoice; it cannot be refunded here")
        case .provider(let error):
            ProblemError(
                .badGateway,
                detail: "Stripe did not refund the payment (\(error.code ?? error.kind.rawValue)); the request may be repeated")
        }
    }
}
