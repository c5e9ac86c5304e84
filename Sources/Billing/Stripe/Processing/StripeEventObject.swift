import PGClient

/// The typed `data.object` an event's handler works on, decoded from the event before any database work, so no JSON
/// is decoded while a pool connection and the claimed ledger row are held.
enum StripeEventObject: Sendable {
    case checkoutSession(StripeCheckoutSession)
    case invoice(StripeInvoice)
    case subscription(StripeSubscription)
    case charge(StripeCharge)
    case dispute(StripeDispute)
    /// A type no handler applies.
    case none

    /// The view `StripeEventHandler` needs for `event.type`.
    /// - Throws: `StripeEventDecodingError` when `data.object` is not that kind of object or lacks required fields.
    init(_ event: StripeEvent) throws(StripeEventDecodingError) {
        switch event.type {
        case .checkoutSessionCompleted, .checkoutSessionAsyncPaymentSucceeded:
            self = .checkoutSession(try event.checkoutSession())
        case .invoicePaid, .invoicePaymentSucceeded, .invoicePaymentFailed:
            self = .invoice(try event.invoice())
        case .customerSubscriptionCreated, .customerSubscriptionUpdated, .customerSubscriptionDeleted,
            .customerSubscriptionTrialWillEnd:
            self = .subscription(try event.subscription())
        case .chargeRefunded:
            self = .charge(try event.charge())
        case .chargeDisputeCreated, .chargeDisputeClosed:
            self = .dispute(try event.dispute())
        default:
            self = .none
        }
    }

    /// What names the object's plan, for objects whose handler looks it up first thing (the lookup then goes out in
    /// the ledger claim's round trip); nil for the others.
    var planLookup: PGQuery? {
        switch self {
        case .invoice(let invoice): PlanStore.pricedPlanQuery(code: invoice.plan, priceIDs: invoice.priceIDs)
        case .subscription(let subscription):
            PlanStore.pricedPlanQuery(code: subscription.plan, priceIDs: subscription.priceIDs)
        default: nil
        }
    }
}
