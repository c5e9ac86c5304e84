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
}
