import Billing
import PGClient

/// Admin refunds of Stars payments: the intent is recorded (keyed by charge id) before `refundStarPayment` is
/// called, so concurrent requests make exactly one call.
public enum StarsRefundIntents {
    /// What a refund request found.
    public enum Claim: Sendable, Equatable {
        /// This request owns the call: refund `telegramUserID`'s charge through the Bot API.
        case callProvider(userID: Int64, telegramUserID: Int64)
        /// Another request is calling (or called) the Bot API for this charge.
        case inProgress
        /// The charge is already refunded (by the admin path or a `refunded_payment` update).
        case alreadyRefunded
        /// No Stars payment with this charge id.
        case unknownCharge
    }

    /// How long a `requested` intent belongs to the instance that claimed it. Longer than any Bot API call
    /// (timeouts and retries included); after it, the owner is presumed dead and another request may call again.
    public static let claimLease = 120

    /// Claims the refund of a charge. Run in its own transaction, before calling the Bot API.
    public static func claim(_ tx: PGConnection, chargeID: String, requestedBy: String) async throws -> Claim {
        guard
            let row = try await tx.query(
                """
                SELECT i.user_id, u.telegram_user_id, i.status FROM invoices i JOIN users u ON u.id = i.user_id
                WHERE i.provider = 'telegram_stars' AND i.provider_invoice_id = \(chargeID)
                """
            ).first
        else { return .unknownCharge }
        let userID = try row.decode("user_id", as: Int64.self)
        let telegramUserID = try row.decode("telegram_user_id", as: Int64.self)
        if try row.decode("status", as: String.self) == InvoiceStatus.refunded.rawValue { return .alreadyRefunded }
        let claimed = try await tx.execute(
            """
            INSERT INTO stars_refunds AS r (telegram_payment_charge_id, user_id, requested_by)
            VALUES (\(chargeID), \(userID), \(requestedBy))
            ON CONFLICT (telegram_payment_charge_id) DO UPDATE
                SET status = 'requested', requested_by = EXCLUDED.requested_by, last_error = NULL, claimed_at = now()
                WHERE r.status = 'failed'
                   OR (r.status = 'requested' AND r.claimed_at < now() - make_interval(secs => \(claimLease)))
            """)
        return claimed == 1 ? .callProvider(userID: userID, telegramUserID: telegramUserID) : .inProgress
    }

    /// Records a failed Bot API call so a later request may try again.
    public static func markFailed(_ connection: PGConnection, chargeID: String, error: String) async throws {
        try await connection.execute(
            """
            UPDATE stars_refunds SET status = 'failed', last_error = \(String(error.prefix(500)))
            WHERE telegram_payment_charge_id = \(chargeID) AND status = 'requested'
            """)
    }
}
