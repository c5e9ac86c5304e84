import Foundation

/// Status of a ledger row (`payment_events.status`).
public enum PaymentEventStatus: String, Sendable, Codable, CaseIterable {
    case received
    case processed
    case failed
    case ignored
    case dead
}

/// A row of the payment ledger, as the admin API lists it.
public struct PaymentEvent: Sendable, Codable, Equatable {
    public var id: Int64
    public var provider: PaymentProvider
    public var eventID: String
    public var eventType: String
    public var status: PaymentEventStatus
    public var attempts: Int
    public var lastError: String?
    public var receivedAt: Date
    public var processedAt: Date?
    public var nextAttemptAt: Date?
}
