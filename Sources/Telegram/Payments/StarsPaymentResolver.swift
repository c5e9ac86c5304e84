import Billing
import Foundation
import PGClient

/// Turns a `successful_payment` message into the `StarsPayment` the ledger applies, deciding the plan from what
/// cannot be forged: for a renewal, the subscription recorded at its first payment (no signature check, so a rotated
/// bot token cannot turn renewals into dead payments); otherwise the signed invoice payload.
public struct StarsPaymentResolver: Sendable {
    let pool: PGPool
    let signer: StarsInvoicePayloadSigner

    public init(pool: PGPool, signer: StarsInvoicePayloadSigner) {
        self.pool = pool
        self.signer = signer
    }

    /// - Returns: the payment, or nil when its plan cannot be trusted (an unverifiable payload, no sender).
    public func resolve(_ message: TelegramMessage, _ payment: SuccessfulPayment, raw: String) async throws -> StarsPayment? {
        guard let from = message.from else { return nil }
        let renewal: StarsSubscription? =
            if payment.isRecurring == true, payment.isFirstRecurring != true {
                try await pool.withConnection { connection in
                    try await StarsLedger.subscription(
                        connection, telegramUserID: from.id, invoicePayload: payment.invoicePayload)
                }
            } else {
                nil
            }
        let plan =
            renewal?.plan
            ?? (try? signer.verify(payment.invoicePayload, expectedTelegramUserID: from.id, maxAge: nil))?.plan
        guard let plan else { return nil }
        return StarsPayment(
            profile: from.profile, chargeID: payment.telegramPaymentChargeID,
            currency: payment.currency, totalAmount: Int64(payment.totalAmount), plan: plan,
            subscriptionExpiration: payment.subscriptionExpiresAt, rawJSON: raw, paidAt: message.sentAt,
            invoicePayload: payment.invoicePayload, subscriptionFirstChargeID: renewal?.firstChargeID)
    }
}
