import Foundation
import PGClient

/// `checkout.session.completed` and `checkout.session.async_payment_succeeded`: a paid one-time payment is one
/// duration grant (keyed by its payment intent, so both events grant it once); a subscription's session only links
/// the customer (its invoices grant).
enum StripeCheckoutHandling {
    static func completed(
        _ tx: PGConnection, _ context: StripeEventHandler.Context, _ session: StripeCheckoutSession
    ) async throws -> StripeEffect {
        let object = "checkout session \(session.id)"
        let userID = try await StripeEventHandler.user(
            tx, metadataUser: session.userID, customer: session.customer, object: object)
        if let customer = session.customer { try await StripeCustomerStore.link(tx, userID: userID, customerID: customer) }
        // A delayed payment method completes the session unpaid; `async_payment_succeeded` reports it paid later.
        let paid = session.isPaid || context.event.type == .checkoutSessionAsyncPaymentSucceeded
        guard session.mode == .payment, paid else {
            return StripeEffect(changed: session.customer != nil)
        }
        let plan = try await StripeEventHandler.plan(tx, code: session.plan, priceIDs: [], object: object)
        let refs = [GrantRef.checkoutSession(session.id)] + [session.paymentIntent.map(GrantRef.paymentIntent)].compactMap { $0 }
        try await GrantStore.lockPayments(tx, refs: refs)
        let purchasedAt = session.created.map(StripeEventHandler.date) ?? context.event.createdAt
        try await InvoiceStore.upsert(
            tx,
            Invoice(
                provider: .stripe, providerInvoiceID: session.paymentIntent ?? session.id, userID: userID, plan: plan.code,
                amount: session.amountTotal ?? 0, currency: (session.currency ?? "usd").uppercased(), status: .paid,
                createdAt: purchasedAt))
        let grant = NewGrant(
            userID: userID, plan: plan.code, source: .stripe,
            paymentKey: "stripe:payment:" + (session.paymentIntent ?? session.id),
            kind: .duration(seconds: Int64(plan.periodDays) * 86_400), purchasedAt: purchasedAt, refs: refs)
        guard let applied = try await GrantStore.apply(tx, grant, cause: context.cause) else { return .none }
        if applied.grant.state == .refunded {
            try await GrantStore.markInvoiceRefunded(tx, paymentKey: grant.paymentKey)
        } else {
            let notice = SubscriberMessages.paymentReceived(
                plan: plan.name,
                amount: NoticeAmount(minorUnits: session.amountTotal ?? 0, currency: session.currency ?? "usd"),
                until: applied.entitlement.expiresAt, renewal: false)
            try await NotificationOutbox.enqueueLater(tx, eventKey: grant.paymentKey, notice: notice, userID: userID)
        }
        return StripeEffect(
            changed: true,
            paid: PaidAmount(amount: session.amountTotal ?? 0, currency: (session.currency ?? "usd").uppercased()))
    }
}
