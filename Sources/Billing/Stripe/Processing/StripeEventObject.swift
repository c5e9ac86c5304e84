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

    /// The view `StripeEventHandler` needs for `event.type`. For an event decoded from a body it was decoded in the
    /// envelope's pass (the body is parsed once).
    /// - Throws: `StripeEventDecodingError` when `data.object` is not that kind of object or lacks required fields.
    init(_ event: StripeEvent) throws(StripeEventDecodingError) {
        self = try event.typedObject().get()
    }

    /// The view an event of `type` needs, decoded from `container[key]`.
    init<Key: CodingKey>(_ type: StripeEventType, in container: KeyedDecodingContainer<Key>, forKey key: Key) throws {
        switch type {
        case .checkoutSessionCompleted, .checkoutSessionAsyncPaymentSucceeded:
            self = .checkoutSession(try container.decode(StripeCheckoutSession.self, forKey: key))
        case .invoicePaid, .invoicePaymentSucceeded, .invoicePaymentFailed:
            self = .invoice(try container.decode(StripeInvoice.self, forKey: key))
        case .customerSubscriptionCreated, .customerSubscriptionUpdated, .customerSubscriptionDeleted,
            .customerSubscriptionTrialWillEnd:
            self = .subscription(try container.decode(StripeSubscription.self, forKey: key))
        case .chargeRefunded:
            self = .charge(try container.decode(StripeCharge.self, forKey: key))
        case .chargeDisputeCreated, .chargeDisputeClosed:
            self = .dispute(try container.decode(StripeDispute.self, forKey: key))
        default:
            self = .none
        }
    }

    /// `init(_:in:forKey:)` with its failure kept: an event whose object does not decode is still an event (its
    /// handler reports the failure after the ledger claim).
    static func decoding<Key: CodingKey>(
        _ type: StripeEventType, in container: KeyedDecodingContainer<Key>, forKey key: Key
    ) -> Result<StripeEventObject, StripeEventDecodingError> {
        do {
            return .success(try StripeEventObject(type, in: container, forKey: key))
        } catch {
            return .failure(StripeEventDecodingError.from(error))
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
