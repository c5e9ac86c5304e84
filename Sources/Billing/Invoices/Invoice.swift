import Foundation

/// Invoice statuses (the CHECK constraint of `invoices.status`), with a rank so that a late, older event never
/// moves an invoice backwards (paid stays paid when a stale `open` arrives; refunded beats paid).
public enum InvoiceStatus: String, Sendable, Codable, CaseIterable {
    case draft
    case open
    case pastDue = "past_due"
    case uncollectible
    case paid
    case void
    case refunded

    var rank: Int {
        switch self {
        case .draft: 0
        case .open: 1
        case .pastDue: 2
        case .uncollectible: 3
        case .paid, .void: 4
        case .refunded: 5
        }
    }
}

/// An invoice of either provider.
public struct Invoice: Sendable, Codable, Equatable {
    public var id: Int64
    public var provider: PaymentProvider
    public var providerInvoiceID: String
    public var userID: Int64
    public var plan: String?
    public var amount: Int64
    public var currency: String
    public var status: InvoiceStatus
    public var hostedURL: String?
    public var periodStart: Date?
    public var periodEnd: Date?
    public var createdAt: Date

    public init(
        id: Int64 = 0, provider: PaymentProvider, providerInvoiceID: String, userID: Int64, plan: String?,
        amount: Int64, currency: String, status: InvoiceStatus, hostedURL: String? = nil, periodStart: Date? = nil,
        periodEnd: Date? = nil, createdAt: Date
    ) {
        self.id = id
        self.provider = provider
        self.providerInvoiceID = providerInvoiceID
        self.userID = userID
        self.plan = plan
        self.amount = amount
        self.currency = currency
        self.status = status
        self.hostedURL = hostedURL
        self.periodStart = periodStart
        self.periodEnd = periodEnd
        self.createdAt = createdAt
    }
}
