import Foundation
import Hummingbird
import Logging
import Telegram

/// `POST /admin/v1/telegram/refunds` `{"telegram_payment_charge_id"}`: refunds a Stars payment through the Bot API
/// and revokes what it bought, once (see `StarsAdminRefund`). Behind `ADMIN_TOKEN`, absent when it is unset.
///
/// Answers: 200 `{"refunded": true, "charge_id", "entitlement_status"}` (with `"already": true` when it had been
/// refunded before); 404 for an unknown charge; 409 while another request refunds it; 502 when Telegram refused
/// or failed (a later request may retry).
struct AdminStarsRefundController: AppModule, Sendable {
    let refunds: StarsAdminRefund

    static func addRoutes(to router: AppRouter, config: AppConfig, dependencies: AppDependencies) {
        guard let token = config.adminToken else { return }
        Self(refunds: StarsAdminRefund(pool: dependencies.pool, bot: dependencies.clients(config).bot)).addRoutes(
            to: router.group("/admin/v1/telegram").add(middleware: AdminAuthMiddleware(token: token)))
    }

    func addRoutes(to admin: RouterGroup<AppRequestContext>) {
        admin.post("/refunds", use: refund)
    }

    @Sendable func refund(_ request: Request, context: AppRequestContext) async throws -> AdminRefundResponse {
        let body = try await request.decode(as: AdminRefundRequest.self, context: context)
        let chargeID = try body.validChargeID()
        var logger = context.logger
        logger[metadataKey: "action"] = "telegram_refund"
        logger[metadataKey: "charge_id"] = "\(chargeID)"
        do {
            let outcome = try await refunds.refund(
                chargeID: chargeID, requestedBy: "admin request \(context.requestID.prefix(64))", logger: logger)
            logger.notice(
                "admin refunded Stars payment",
                metadata: [
                    "user_id": "\(outcome.userID.map(String.init) ?? "unknown")", "already": "\(outcome.already)",
                    "entitlement_status": "\(outcome.entitlementStatus ?? "none")",
                ])
            return AdminRefundResponse(
                chargeID: chargeID, already: outcome.already ? true : nil,
                entitlementStatus: outcome.entitlementStatus, renewalCanceled: outcome.renewalCanceled)
        } catch let error as StarsAdminRefundError {
            logger.warning("admin refund of Stars payment not done", metadata: ["reason": "\(error.problem.detail)"])
            throw error
        }
    }
}

/// Body of `POST /admin/v1/telegram/refunds`.
struct AdminRefundRequest: Decodable, Sendable {
    var telegramPaymentChargeID: String?

    enum CodingKeys: String, CodingKey {
        case telegramPaymentChargeID = "telegram_payment_charge_id"
    }

    /// The charge id: 1–200 characters (the ledger keys its refund as `refund:<charge id>`, at most 255).
    func validChargeID() throws(ProblemError) -> String {
        guard let id = telegramPaymentChargeID, (1...200).contains(id.count)
        else { throw ProblemError.badRequest("telegram_payment_charge_id is required (1 to 200 characters)") }
        return id
    }
}

/// 200 answer of a refund.
struct AdminRefundResponse: ResponseEncodable, Sendable {
    var chargeID: String
    /// Set (true) only when the payment had been refunded before this request.
    var already: Bool?
    var entitlementStatus: String?
    /// Only for a payment of a Stars subscription: whether its renewal is canceled.
    var renewalCanceled: Bool?

    enum CodingKeys: String, CodingKey {
        case refunded, already
        case chargeID = "charge_id"
        case entitlementStatus = "entitlement_status"
        case renewalCanceled = "renewal_canceled"
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(true, forKey: .refunded)
        try container.encode(chargeID, forKey: .chargeID)
        try container.encodeIfPresent(already, forKey: .already)
        try container.encode(entitlementStatus, forKey: .entitlementStatus)
        try container.encodeIfPresent(renewalCanceled, forKey: .renewalCanceled)
    }
}
