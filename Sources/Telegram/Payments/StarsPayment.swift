import Billing
import Foundation

/// A Stars `successful_payment`, reduced to what the ledger needs. The plan comes from the verified invoice
/// payload (or, for a renewal, from the subscription recorded at its first payment), never from anything the
/// client could change.
public struct StarsPayment: Sendable {
    public var profile: TelegramProfile
    public var chargeID: String
    public var currency: String
    public var totalAmount: Int64
    public var plan: String
    /// For Stars subscriptions: when the paid period ends (`subscription_expiration_date`).
    public var subscriptionExpiration: Date?
    /// The update's JSON, stored in the ledger.
    public var rawJSON: String
    /// When the payment was made (the message's `date`): its purchase time.
    public var paidAt: Date
    /// The invoice payload as sent (a subscription is recorded under it at its first payment).
    public var invoicePayload: String
    /// For a renewal: the first charge of the subscription it renews (nil for a first or one-time payment).
    public var subscriptionFirstChargeID: String?

    public init(
        profile: TelegramProfile, chargeID: String, currency: String, totalAmount: Int64, plan: String,
        subscriptionExpiration: Date?, rawJSON: String, paidAt: Date = Date(), invoicePayload: String = "",
        subscriptionFirstChargeID: String? = nil
    ) {
        self.profile = profile
        self.chargeID = chargeID
        self.currency = currency
        self.totalAmount = totalAmount
        self.plan = plan
        self.subscriptionExpiration = subscriptionExpiration
        self.rawJSON = rawJSON
        self.paidAt = paidAt
        self.invoicePayload = invoicePayload
        self.subscriptionFirstChargeID = subscriptionFirstChargeID
    }
}

/// What applying a payment or refund did.
public enum StarsLedgerOutcome: Sendable, Equatable {
    /// Applied now: the entitlement as it reads afterwards.
    case applied(EntitlementState)
    /// Already applied by an earlier delivery (or the other refund path): nothing changed.
    case duplicate
    /// Recorded, but nothing to change (e.g. a refund of a charge we never saw: remembered for when it comes).
    case recordedWithoutEffect
}

/// Errors applying Stars payments.
public enum StarsLedgerError: Error, Sendable, Equatable, CustomStringConvertible {
    case unknownPlan(String)
    case notXTR(String)

    public var description: String {
        switch self {
        case .unknownPlan(let plan): "plan \(plan) does not exist"
        case .notXTR(let currency): "Stars payments are in XTR, got \(currency)"
        }
    }
}
