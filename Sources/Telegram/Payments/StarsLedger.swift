import Billing
import Foundation
import PGClient

/// Applies Stars payments and refunds inside one transaction each: ledger row (`payment_events`, provider
/// `telegram_stars`), the charge's grant (and the recomputed entitlement, with its audit row) and invoice, or
/// nothing at all on a duplicate.
public enum StarsLedger {
    /// Ledger event id of a refund of `chargeID` (payments use the charge id itself).
    public static func refundEventID(_ chargeID: String) -> String { "refund:" + chargeID }

    /// Applies a `successful_payment` once per `telegram_payment_charge_id`: one grant per charge — the plan's
    /// `period_days` laid after the access already held, or, for a subscription payment, until
    /// `subscription_expiration_date`. A subscription's first payment records the subscription, so renewals are
    /// applied from it.
    /// - Parameter ledgerRow: the `failed`/`dead` ledger row of this charge when an operator retries it (locked by the
    ///   caller); nil to claim a new one.
    public static func applyPayment(_ tx: PGConnection, _ payment: StarsPayment, ledgerRow: Int64? = nil) async throws
        -> StarsLedgerOutcome
    {
        guard payment.currency == TelegramStars.currency else { throw StarsLedgerError.notXTR(payment.currency) }
        let refs = [GrantRef.starsCharge(payment.chargeID)]
        try await GrantStore.lockPayments(tx, refs: refs)
        let eventRow: Int64
        if let ledgerRow {
            try await PaymentLedger.markReprocessed(tx, id: ledgerRow, changed: true)
            eventRow = ledgerRow
        } else {
            guard
                let claimed = try await PaymentLedger.claim(
                    tx, provider: .telegramStars, eventID: payment.chargeID, eventType: "successful_payment",
                    payload: PGRawJSON(payment.rawJSON))
            else { return .duplicate }
            eventRow = claimed
        }
        let user = try await UserStore.upsert(tx, profile: payment.profile)
        guard let planRow = try await tx.query("SELECT period_days, name FROM plans WHERE code = \(payment.plan)").first
        else { throw StarsLedgerError.unknownPlan(payment.plan) }
        let periodDays = try planRow.decode("period_days", as: Int.self)
        let planName = try planRow.decode("name", as: String.self)
        let kind: NewGrant.Kind
        var subscriptionRef: String?
        if let until = payment.subscriptionExpiration {
            kind = .period(start: min(payment.paidAt, until), end: until)
            subscriptionRef = payment.subscriptionFirstChargeID ?? payment.chargeID
            if payment.subscriptionFirstChargeID == nil {
                try await recordSubscription(tx, payment, userID: user.id, until: until)
            } else if let first = payment.subscriptionFirstChargeID {
                try await tx.execute(
                    """
                    UPDATE stars_subscriptions SET expires_at = greatest(expires_at, \(until)), updated_at = now()
                    WHERE first_charge_id = \(first)
                    """)
            }
        } else {
            kind = .duration(seconds: Int64(periodDays) * 86_400)
        }
        let grant = NewGrant(
            userID: user.id, plan: payment.plan, source: .telegramStars, paymentKey: "stars:" + payment.chargeID,
            kind: kind, purchasedAt: payment.paidAt, subscriptionRef: subscriptionRef, refs: refs)
        let cause = ChangeCause(actor: .telegramStars, reason: "Stars payment \(payment.chargeID)", paymentEventID: eventRow)
        guard let applied = try await GrantStore.apply(tx, grant, cause: cause) else { return .recordedWithoutEffect }
        let state = applied.entitlement
        try await InvoiceStore.upsert(
            tx,
            Invoice(
                provider: .telegramStars, providerInvoiceID: payment.chargeID, userID: user.id, plan: payment.plan,
                amount: payment.totalAmount, currency: TelegramStars.currency, status: .paid, periodStart: payment.paidAt,
                periodEnd: state.expiresAt, createdAt: payment.paidAt))
        // Refunded before it arrived: the invoice says so too.
        if applied.grant.state == .refunded {
            try await GrantStore.markInvoiceRefunded(tx, paymentKey: grant.paymentKey)
        } else {
            let notice = SubscriberMessages.paymentReceived(
                plan: planName, amount: NoticeAmount(minorUnits: payment.totalAmount, currency: TelegramStars.currency),
                until: state.expiresAt, renewal: payment.subscriptionFirstChargeID != nil)
            try await NotificationOutbox.enqueueLater(tx, eventKey: grant.paymentKey, notice: notice, userID: user.id)
        }
        return .applied(state)
    }

    /// The subscription a renewal belongs to: the one recorded at the first payment of this user with this exact
    /// invoice payload (renewals carry the first payment's payload). Needs no signature check, so renewals keep
    /// working after the bot token (and with it the payload signing key) changed.
    public static func subscription(_ connection: PGConnection, telegramUserID: Int64, invoicePayload: String) async throws
        -> StarsSubscription?
    {
        try await connection.query(
            """
            SELECT s.first_charge_id, s.plan FROM stars_subscriptions s JOIN users u ON u.id = s.user_id
            WHERE u.telegram_user_id = \(telegramUserID) AND s.invoice_payload = \(invoicePayload)
            """
        ).first.map { row in
            StarsSubscription(firstChargeID: try row.decode("first_charge_id"), plan: try row.decode("plan"))
        }
    }

    /// Applies a refund once per charge, whichever path comes first (the `refunded_payment` update or the admin
    /// refund): ends the charge's grant (a tombstone keeps a payment delivered later from granting) and marks the
    /// invoice refunded. Other charges' grants stay.
    public static func applyRefund(_ tx: PGConnection, chargeID: String, actor: ChangeActor, rawJSON: String) async throws
        -> StarsLedgerOutcome
    {
        let refs = [GrantRef.starsCharge(chargeID)]
        try await GrantStore.lockPayments(tx, refs: refs)
        guard
            let eventRow = try await PaymentLedger.claim(
                tx, provider: .telegramStars, eventID: refundEventID(chargeID), eventType: "refunded_payment",
                payload: PGRawJSON(rawJSON))
        else { return .duplicate }
        let cause = ChangeCause(actor: actor, reason: "Stars refund \(chargeID)", paymentEventID: eventRow)
        let touched = try await GrantStore.refund(tx, refs: refs, cause: cause)
        let amount = try await InvoiceStore.find(tx, provider: .telegramStars, providerInvoiceID: chargeID)
            .map { NoticeAmount(minorUnits: $0.amount, currency: TelegramStars.currency) }
        try await SubscriberNotices.refunded(tx, touched, key: "stars:refund:" + chargeID, amount: amount, on: Date())
        // The refund happened whatever the entitlement's state was: close any open intent first.
        try await tx.execute(
            """
            UPDATE stars_refunds SET status = 'refunded', completed_at = now()
            WHERE telegram_payment_charge_id = \(chargeID) AND status <> 'refunded'
            """)
        guard let state = touched.first(where: \.state.changed)?.state else { return .recordedWithoutEffect }
        return .applied(state)
    }

    private static func recordSubscription(_ tx: PGConnection, _ payment: StarsPayment, userID: Int64, until: Date) async throws {
        try await tx.execute(
            """
            INSERT INTO stars_subscriptions (first_charge_id, user_id, plan, invoice_payload, expires_at)
            VALUES (\(payment.chargeID), \(userID), \(payment.plan), \(payment.invoicePayload), \(until))
            ON CONFLICT (user_id, invoice_payload) DO UPDATE
                SET expires_at = greatest(stars_subscriptions.expires_at, EXCLUDED.expires_at), updated_at = now()
            """)
    }
}

/// A Stars subscription as recorded at its first payment.
public struct StarsSubscription: Sendable, Equatable {
    public var firstChargeID: String
    public var plan: String
}
