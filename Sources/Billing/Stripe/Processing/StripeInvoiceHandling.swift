import Foundation
import PGClient
import Support

/// `invoice.paid` / `invoice.payment_succeeded` (one grant per invoice, whichever event arrives first) and
/// `invoice.payment_failed` (a past-due grace grant while Stripe retries).
enum StripeInvoiceHandling {
    static func paid(_ tx: PGConnection, _ context: StripeEventHandler.Context, _ invoice: StripeInvoice) async throws
        -> StripeEffect
    {
        let (userID, plan) = try await owner(tx, context, invoice)
        guard let periodEnd = invoice.linePeriodEnd ?? invoice.periodEnd else {
            throw StripeProcessingError.missingPeriodEnd(invoice: invoice.id)
        }
        let periodStart = min(invoice.linePeriodStart ?? invoice.periodStart ?? periodEnd, periodEnd)
        let refs = invoice.paymentRefs
        try await GrantStore.lockPayments(tx, refs: refs)
        // The foreign keys of the invoice (when new) and of the grant stand in for a SELECT of the user.
        return try await StripeEventHandler.reportingUnknownUser(userID) {
            try await InvoiceStore.record(tx, record(invoice, userID: userID, plan: plan.code, status: .paid))
            let grant = NewGrant(
                userID: userID, plan: plan.code, source: .stripe, paymentKey: "stripe:invoice:" + invoice.id,
                kind: .period(start: StripeEventHandler.date(periodStart), end: StripeEventHandler.date(periodEnd)),
                purchasedAt: StripeEventHandler.date(invoice.created ?? periodStart),
                subscriptionRef: invoice.subscription, refs: refs)
            // nil: the other event type (or a retry) already granted this invoice.
            guard let applied = try await GrantStore.apply(tx, grant, cause: context.cause) else { return .none }
            if applied.grant.state == .refunded {
                try await GrantStore.markInvoiceRefunded(tx, paymentKey: grant.paymentKey)
            } else if invoice.amountPaid > 0 {
                // Keyed by the invoice: `invoice.paid` and `invoice.payment_succeeded` report it once between them.
                let notice = SubscriberMessages.paymentReceived(
                    plan: plan.name, amount: NoticeAmount(minorUnits: invoice.amountPaid, currency: invoice.currency),
                    until: applied.entitlement.expiresAt, renewal: invoice.billingReason == "subscription_cycle")
                try await NotificationOutbox.enqueueLater(tx, eventKey: "stripe:invoice:" + invoice.id, notice: notice, userID: userID)
            }
            return StripeEffect(
                changed: true, paid: PaidAmount(amount: invoice.amountPaid, currency: invoice.currency.uppercased()))
        }
    }

    static func failed(_ tx: PGConnection, _ context: StripeEventHandler.Context, _ invoice: StripeInvoice) async throws
        -> StripeEffect
    {
        let (userID, plan) = try await owner(tx, context, invoice)
        // The foreign keys of the invoice (when new) and of the notification stand in for a SELECT of the user.
        return try await StripeEventHandler.reportingUnknownUser(userID) {
            try await InvoiceStore.record(tx, record(invoice, userID: userID, plan: plan.code, status: .pastDue))
            // A failed renewal keeps access for the grace period from where the paid period ended (the failed
            // invoice's period start). A subscription's first invoice never paid anything: no grace for it.
            var graceUntil: Date?
            if let subscription = invoice.subscription, invoice.billingReason != "subscription_create",
                let start = invoice.linePeriodStart ?? invoice.periodEnd, context.options.pastDueGrace > .zero
            {
                let begins = StripeEventHandler.date(start)
                let grace = NewGrant(
                    userID: userID, plan: plan.code, source: .stripe, paymentKey: "stripe:grace:" + invoice.id,
                    kind: .period(start: begins, end: begins.addingTimeInterval(context.options.pastDueGrace.inSeconds)),
                    grace: true, purchasedAt: begins, subscriptionRef: subscription)
                graceUntil = try await GrantStore.grant(tx, grace, cause: context.cause)?.expiresAt
            }
            // One message per failed attempt (each is an event of its own); the button opens the billing portal.
            let notice = SubscriberMessages.paymentFailed(
                plan: plan.name,
                amount: NoticeAmount(minorUnits: invoice.amountDue ?? invoice.amountPaid, currency: invoice.currency),
                graceUntil: graceUntil)
            try await NotificationOutbox.enqueue(tx, eventKey: "stripe:" + context.event.id, notice: notice, userID: userID)
            return StripeEffect(changed: true)
        }
    }

    /// The invoice's user (metadata, else the customer link; not looked up: the writes' foreign keys check it) and its
    /// plan (the price, metadata only as a fallback).
    private static func owner(
        _ tx: PGConnection, _ context: StripeEventHandler.Context, _ invoice: StripeInvoice
    ) async throws -> (userID: Int64, plan: Plan) {
        let object = "invoice \(invoice.id)"
        let userID = try await StripeEventHandler.user(
            tx, metadataUser: invoice.userID, customer: invoice.customer, object: object, verify: false)
        let plan = try await StripeEventHandler.plan(
            tx, code: invoice.plan, priceIDs: invoice.priceIDs, object: object, prefetched: context.prefetchedPlan)
        return (userID, plan)
    }

    /// The `invoices` row of a Stripe invoice.
    private static func record(_ invoice: StripeInvoice, userID: Int64, plan: String, status: InvoiceStatus) -> Invoice {
        Invoice(
            provider: .stripe, providerInvoiceID: invoice.id, userID: userID, plan: plan,
            amount: status == .paid ? invoice.amountPaid : (invoice.amountDue ?? invoice.amountPaid),
            currency: invoice.currency.uppercased(), status: status, hostedURL: invoice.hostedInvoiceURL,
            periodStart: (invoice.linePeriodStart ?? invoice.periodStart).map(StripeEventHandler.date),
            periodEnd: (invoice.linePeriodEnd ?? invoice.periodEnd).map(StripeEventHandler.date),
            createdAt: invoice.created.map(StripeEventHandler.date) ?? Date())
    }
}
