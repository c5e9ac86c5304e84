import Foundation

/// What a signed Stars invoice payload says: who may pay for which plan, and when it was issued.
public struct StarsInvoicePayload: Sendable, Equatable {
    /// The plan code (also the entitlement type).
    public var plan: String
    /// The buyer's Telegram user id (`from.id` of the pre-checkout query and the payment message).
    public var telegramUserID: Int64
    /// When the payload was made (whole seconds).
    public var issuedAt: Date
    /// Random, so two invoices for one plan and user differ.
    public var nonce: String

    public init(plan: String, telegramUserID: Int64, issuedAt: Date, nonce: String) {
        self.plan = plan
        self.telegramUserID = telegramUserID
        self.issuedAt = issuedAt
        self.nonce = nonce
    }
}

/// Why a payload was refused. Descriptions are safe to log; none of them contains key material.
public enum StarsInvoicePayloadError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Not a payload of ours: wrong shape, version or field encoding.
    case malformed
    /// The tag does not match: made with another key, or altered.
    case forged
    /// Older than the allowed age (or issued implausibly far in the future).
    case stale
    /// Made for another Telegram user.
    case wrongUser
    /// `make` was given a plan code that is empty or longer than 64 bytes.
    case invalidPlanCode

    public var description: String {
        switch self {
        case .malformed: "invoice payload is malformed"
        case .forged: "invoice payload signature does not match"
        case .stale: "invoice payload has expired"
        case .wrongUser: "invoice payload was issued to another user"
        case .invalidPlanCode: "plan code must be 1 to 64 bytes"
        }
    }
}
