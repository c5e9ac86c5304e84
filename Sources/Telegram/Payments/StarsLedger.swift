import Billing
import Foundation
import PGClient

/// Applies Stars payments and refunds inside one transaction each: ledger row (`payment_events`, provider
/// `telegram_stars`), entitlement change (with its audit row) and invoice, or nothing at all on a duplicate.
public enum StarsLedger {
    /// Ledger event id of a refund of `chargeID` (payments use the charge id itself).
    public static func refundEventID(_ chargeID: String) -> String { "refund:" + chargeID }

    /// Applies a `successful_payment` once per `telegram_payment_charge_id`: relative extension by the plan's
    /// `period_days` under the row lock, or, for subscriptions, until `subscription_expiration_date`.
    public static func applyPayment(_ tx: PGConnection, _ payment: StarsPayment) throws -> StarsLedgerOutcome {
        guard payment.currency == "XTR" else { throw StarsLedgerError.notXTR(payment.currency) }
        guard
            let eventRow = try PaymentLedger.claim(
                tx, provider: .telegramStars, eventID: payment.chargeID, eventType: "successful_payment",
                payload: PGRawJSON(payment.rawJSON))
        else { return .duplicate }
        let user = try UserStore.upsert(tx, profile: payment.profile)
        guard
            let periodDays = try tx.query("SELECT period_days FROM plans WHERE code = \(payment.plan)").first?
                .decode("period_days", as: Int.self)
        else { throw StarsLedgerError.unknownPlan(payment.plan) }
        let cause = ChangeCause(
            actor: .telegramStars, reason: "Stars payment \(payment.chargeID)", paymentEventID: eventRow)
        let change: EntitlementChange
        if let until = payment.subscriptionExpiration {
            change = try EntitlementStore.grant(
                tx, userID: user.id, plan: payment.plan, until: until, source: .telegramStars, cause: cause)
        } else {
            change = try EntitlementStore.extend(
                tx, userID: user.id, plan: payment.plan, days: periodDays, source: .telegramStars, cause: cause)
        }
        try InvoiceStore.upsert(
            tx,
            Invoice(
                provider: .telegramStars, providerInvoiceID: payment.chargeID, userID: user.id, plan: payment.plan,
                amount: payment.totalAmount, currency: "XTR", status: .paid, periodStart: Date(),
                periodEnd: change.afterExpiresAt, createdAt: Date()))
        return .applied(change)
    }

    /// Applies a refund once per charge, whichever path comes first (the `refunded_payment` update or the admin
    /// refund): marks the invoice refunded and revokes the plan.
    public static func applyRefund(_ tx: PGConnection, chargeID: String, actor: ChangeActor, rawJSON: String) throws
        -> StarsLedgerOutcome
    {
        guard
            let eventRow = try PaymentLedger.claim(
                tx, provider: .telegramStars, eventID: refundEventID(chargeID), eventType: "refunded_payment",
                payload: PGRawJSON(rawJSON))
        else { return .duplicate }
        guard
            let invoice = try InvoiceStore.advanceStatus(
                tx, provider: .telegramStars, providerInvoiceID: chargeID, to: .refunded),
            let plan = invoice.plan
        else {
            try PaymentLedger.setStatus(tx, id: eventRow, status: .ignored)
            return .recordedWithoutEffect
        }
        let change = try EntitlementStore.revoke(
            tx, userID: invoice.userID, plan: plan,
            cause: ChangeCause(actor: actor, reason: "Stars refund \(chargeID)", paymentEventID: eventRow))
        // The refund happened whatever the entitlement's state was: close any open intent first.
        try tx.execute(
            """
            UPDATE stars_refunds SET status = 'refunded', completed_at = now()
            WHERE telegram_payment_charge_id = \(chargeID) AND status <> 'refunded'
            """)
        guard let change else { return .recordedWithoutEffect }
        return .applied(change)
    }
}
