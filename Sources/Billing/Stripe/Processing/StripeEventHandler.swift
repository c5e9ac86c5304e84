import Foundation
import PGClient

/// Applies one Stripe event inside the caller's transaction (the one that claimed it in the ledger).
///
/// Round trips matter here (each costs the server a wake-up and PostgreSQL a statement): the invoice handlers do not
/// look up a user named in metadata; the foreign keys of their writes report an unknown user.
///
/// - Returns: true when the event changed something we track, false when it was stale or of no interest
///   (the ledger then says `ignored`).
public enum StripeEventHandler {
    /// Decodes the event's typed object, then applies it.
    public static func apply(_ tx: PGConnection, _ event: StripeEvent, eventRow: Int64) throws -> Bool {
        try apply(tx, event, object: StripeEventObject(event), eventRow: eventRow)
    }

    /// Applies an event whose typed object was decoded beforehand (outside the transaction).
    static func apply(_ tx: PGConnection, _ event: StripeEvent, object: StripeEventObject, eventRow: Int64) throws -> Bool {
        switch object {
        case .checkoutSession(let session):
            return try checkoutCompleted(tx, event, session, eventRow: eventRow)
        case .invoice(let invoice) where event.type == .invoicePaymentFailed:
            return try invoiceFailed(tx, event, invoice, eventRow: eventRow)
        case .invoice(let invoice):
            return try invoicePaid(tx, event, invoice, eventRow: eventRow)
        case .subscription(let subscription):
            return try StripeSubscriptionSync.apply(tx, event, subscription, eventRow: eventRow)
        case .charge(let charge):
            return try chargeRefunded(tx, event, charge, eventRow: eventRow)
        case .none:
            return false
        }
    }

    static func cause(_ event: StripeEvent, _ eventRow: Int64) -> ChangeCause {
        ChangeCause(actor: .stripe, reason: "\(event.type.rawValue) \(event.id)", paymentEventID: eventRow)
    }

    /// The user an object belongs to: our metadata first, then the customer link.
    ///
    /// - Parameter verify: check that a user named in metadata exists (one SELECT). The invoice handlers pass false
    ///   and run their writes in `reportingUnknownUser`: the foreign keys of what they write check it.
    static func user(
        _ tx: PGConnection, metadataUser: Int64?, customer: String?, object: String, verify: Bool = true
    ) throws -> Int64 {
        if let id = metadataUser {
            if verify, try UserStore.find(tx, id: id) == nil { throw StripeProcessingError.unknownUser(id) }
            return id
        }
        if let customer, let id = try StripeCustomerStore.userID(tx, customerID: customer) { return id }
        throw StripeProcessingError.noUser(object: object)
    }

    /// Runs writes that reference `userID`, turning a violation of a `…_user_id_fkey` foreign key (the user does not
    /// exist) into `StripeProcessingError.unknownUser`, as the SELECT that `user(verify: true)` runs would have.
    static func reportingUnknownUser<T>(_ userID: Int64, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as PGError
            where error.sqlState == .foreignKeyViolation && error.constraint?.hasSuffix("_user_id_fkey") == true
        {
            throw StripeProcessingError.unknownUser(userID)
        }
    }

    static func plan(_ tx: PGConnection, code: String?, priceIDs: [String], object: String) throws -> Plan {
        if let code, let plan = try PlanStore.plan(tx, code: code) { return plan }
        for price in priceIDs {
            if let plan = try PlanStore.plan(tx, stripePriceID: price) { return plan }
        }
        throw StripeProcessingError.unknownPlan(object: object)
    }

    private static func checkoutCompleted(
        _ tx: PGConnection, _ event: StripeEvent, _ session: StripeCheckoutSession, eventRow: Int64
    ) throws -> Bool {
        let userID = try user(tx, metadataUser: session.userID, customer: session.customer, object: "checkout session \(session.id)")
        if let customer = session.customer { try StripeCustomerStore.link(tx, userID: userID, customerID: customer) }
        guard session.mode == .payment, session.isPaid else {
            // Subscriptions are granted by their invoices; the session only links the customer.
            return session.customer != nil
        }
        let plan = try plan(tx, code: session.plan, priceIDs: [], object: "checkout session \(session.id)")
        try EntitlementStore.extend(
            tx, userID: userID, plan: plan.code, days: plan.periodDays, source: .stripe, cause: cause(event, eventRow))
        try InvoiceStore.upsert(
            tx,
            Invoice(
                provider: .stripe, providerInvoiceID: session.paymentIntent ?? session.id, userID: userID, plan: plan.code,
                amount: session.amountTotal ?? 0, currency: (session.currency ?? "usd").uppercased(), status: .paid,
                createdAt: event.createdAt))
        return true
    }

    private static func invoicePaid(_ tx: PGConnection, _ event: StripeEvent, _ invoice: StripeInvoice, eventRow: Int64) throws -> Bool {
        let object = "invoice \(invoice.id)"
        let userID = try user(tx, metadataUser: invoice.userID, customer: invoice.customer, object: object, verify: false)
        let plan = try plan(tx, code: invoice.plan, priceIDs: invoice.priceIDs, object: object)
        guard let periodEnd = invoice.linePeriodEnd ?? invoice.periodEnd else {
            throw StripeProcessingError.missingPeriodEnd(invoice: invoice.id)
        }
        // The foreign keys of the invoice (when new) and of the entitlement stand in for a SELECT of the user.
        return try reportingUnknownUser(userID) {
            try InvoiceStore.upsert(tx, record(invoice, userID: userID, plan: plan.code, status: .paid))
            if let subscription = invoice.subscription,
                try StripeSubscriptionSync.endedAfter(tx, subscriptionID: subscription, eventCreated: event.createdAt)
            {
                // A newer event already ended this subscription: the late invoice must not revive it.
                return false
            }
            try EntitlementStore.grant(
                tx, userID: userID, plan: plan.code, until: Date(timeIntervalSince1970: TimeInterval(periodEnd)),
                source: .stripe, cause: cause(event, eventRow))
            return true
        }
    }

    private static func invoiceFailed(_ tx: PGConnection, _ event: StripeEvent, _ invoice: StripeInvoice, eventRow: Int64) throws -> Bool {
        let object = "invoice \(invoice.id)"
        let userID = try user(tx, metadataUser: invoice.userID, customer: invoice.customer, object: object, verify: false)
        let plan = try plan(tx, code: invoice.plan, priceIDs: invoice.priceIDs, object: object)
        // The foreign keys of the invoice (when new) and of the notification stand in for a SELECT of the user.
        return try reportingUnknownUser(userID) {
            try InvoiceStore.upsert(tx, record(invoice, userID: userID, plan: plan.code, status: .pastDue))
            if let current = try EntitlementStore.find(tx, userID: userID, plan: plan.code), current.status == .active {
                try EntitlementStore.setStatus(
                    tx, userID: userID, plan: plan.code, status: .pastDue, cause: cause(event, eventRow))
            }
            try NotificationOutbox.enqueue(
                tx, eventKey: "stripe:" + event.id, effect: "payment_failed_notice", userID: userID,
                message: "Your payment for \(plan.name) did not go through. Please update your card to keep access.")
            return true
        }
    }

    private static func chargeRefunded(_ tx: PGConnection, _ event: StripeEvent, _ charge: StripeCharge, eventRow: Int64) throws -> Bool {
        guard charge.isFullyRefunded else { return false }
        let keys = [charge.invoice, charge.paymentIntent].compactMap { $0 }
        for key in keys {
            guard let invoice = try InvoiceStore.advanceStatus(tx, provider: .stripe, providerInvoiceID: key, to: .refunded)
            else { continue }
            if let plan = invoice.plan {
                try EntitlementStore.revoke(tx, userID: invoice.userID, plan: plan, cause: cause(event, eventRow))
            }
            return true
        }
        return false
    }

    static func record(_ invoice: StripeInvoice, userID: Int64, plan: String, status: InvoiceStatus) -> Invoice {
        Invoice(
            provider: .stripe, providerInvoiceID: invoice.id, userID: userID, plan: plan,
            amount: status == .paid ? invoice.amountPaid : (invoice.amountDue ?? invoice.amountPaid), currency: invoice.currency.uppercased(),
            status: status, hostedURL: invoice.hostedInvoiceURL,
            periodStart: (invoice.linePeriodStart ?? invoice.periodStart).map { Date(timeIntervalSince1970: TimeInterval($0)) },
            periodEnd: (invoice.linePeriodEnd ?? invoice.periodEnd).map { Date(timeIntervalSince1970: TimeInterval($0)) },
            createdAt: invoice.created.map { Date(timeIntervalSince1970: TimeInterval($0)) } ?? Date())
    }
}
