import Billing
import Foundation
import Hummingbird

/// An optional that is encoded as `null` rather than left out: clients of the admin API rely on every key being
/// there.
@propertyWrapper
struct Nullable<Value: Encodable & Sendable>: Encodable, Sendable {
    var wrappedValue: Value?

    init(wrappedValue: Value?) { self.wrappedValue = wrappedValue }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        if let wrappedValue { try container.encode(wrappedValue) } else { try container.encodeNil() }
    }
}

/// Bodies of `GET /admin/v1/users/{telegram_id}` and `GET /admin/v1/users?query=` (see docs/api.md).
enum AdminUserDTO {
    struct User: Encodable, Sendable {
        var id: Int64
        var telegram_id: Int64
        @Nullable var username: String?
        @Nullable var first_name: String?
        var created_at: String

        init(_ user: CustomerRecord.CustomerSummary) {
            id = user.id
            telegram_id = user.telegramID
            username = user.username
            first_name = user.firstName
            created_at = APIFormat.timestamp(user.createdAt)
        }
    }

    struct Search: ResponseEncodable, Sendable {
        var users: [User]
    }

    struct Entitlement: Encodable, Sendable {
        var plan, status, source, starts_at, expires_at, updated_at: String

        init(_ row: CustomerRecord.Entitlement) {
            plan = row.plan
            status = row.status
            source = row.source
            starts_at = APIFormat.timestamp(row.startsAt)
            expires_at = APIFormat.timestamp(row.expiresAt)
            updated_at = APIFormat.timestamp(row.updatedAt)
        }
    }

    struct Invoice: Encodable, Sendable {
        var id: Int64
        var provider, provider_invoice_id, status, currency, created_at: String
        var amount: Int64
        @Nullable var plan: String?
        @Nullable var period_start: String?
        @Nullable var period_end: String?
        @Nullable var hosted_url: String?

        init(_ invoice: Billing.Invoice) {
            id = invoice.id
            provider = invoice.provider.rawValue
            provider_invoice_id = invoice.providerInvoiceID
            status = invoice.status.rawValue
            currency = invoice.currency
            created_at = APIFormat.timestamp(invoice.createdAt)
            amount = invoice.amount
            plan = invoice.plan
            period_start = APIFormat.timestamp(invoice.periodStart)
            period_end = APIFormat.timestamp(invoice.periodEnd)
            hosted_url = invoice.hostedURL
        }
    }

    /// The payment behind a grant: its ledger event and its invoice (null fields when the books lack one).
    struct GrantPayment: Encodable, Sendable {
        var provider: String
        @Nullable var payment_event_id: Int64?
        @Nullable var event_type: String?
        @Nullable var invoice: Invoice?
    }

    struct Grant: Encodable, Sendable {
        var id: Int64
        var plan, source, state, kind, payment_key, purchased_at: String
        var grace: Bool
        @Nullable var starts_at: String?
        @Nullable var ends_at: String?
        @Nullable var cut_at: String?
        @Nullable var subscription_ref: String?
        var refs: [String]
        /// null for an admin grant (nobody paid).
        @Nullable var payment: GrantPayment?

        init(_ grant: CustomerRecord.GrantRow) {
            id = grant.id
            plan = grant.plan
            source = grant.source
            state = grant.state
            kind = grant.kind
            payment_key = grant.paymentKey
            purchased_at = APIFormat.timestamp(grant.purchasedAt)
            grace = grant.grace
            starts_at = APIFormat.timestamp(grant.startsAt)
            ends_at = APIFormat.timestamp(grant.endsAt)
            cut_at = APIFormat.timestamp(grant.cutAt)
            subscription_ref = grant.subscriptionRef
            refs = grant.refs
            payment =
                grant.source == "admin"
                ? nil
                : GrantPayment(
                    provider: grant.source, payment_event_id: grant.paymentEventID, event_type: grant.paymentEventType,
                    invoice: grant.invoice.map(Invoice.init))
        }
    }

    struct Change: Encodable, Sendable {
        var id: Int64
        var plan, action, actor, reason, after_status, after_expires_at, created_at: String
        @Nullable var before_status: String?
        @Nullable var before_expires_at: String?
        @Nullable var payment_event_id: Int64?
        @Nullable var grant_id: Int64?

        init(_ change: CustomerRecord.ChangeRow) {
            id = change.id
            plan = change.plan
            action = change.action
            actor = change.actor
            reason = change.reason
            after_status = change.afterStatus
            after_expires_at = APIFormat.timestamp(change.afterExpiresAt)
            created_at = APIFormat.timestamp(change.createdAt)
            before_status = change.beforeStatus
            before_expires_at = APIFormat.timestamp(change.beforeExpiresAt)
            payment_event_id = change.paymentEventID
            grant_id = change.grantID
        }
    }
}
