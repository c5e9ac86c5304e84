import Foundation
import PGClient

/// Applies one Stripe event inside the caller's transaction (the one that claimed it in the ledger), as grants:
/// each paid invoice or one-time payment is a grant of its own, refunds and disputes change the state of the
/// grants of the payment they name, and a subscription that ends or changes plan cuts its grants. Every change is
/// followed by a recompute of the (user, plan) read model (`GrantStore`).
///
/// Round trips matter here (each costs the server a wake-up and PostgreSQL a statement): the invoice handlers do not
/// look up a user named in metadata; the foreign keys of their writes report an unknown user.
public enum StripeEventHandler {
    /// Decodes the event's typed object, then applies it.
    public static func apply(
        _ tx: PGConnection, _ event: StripeEvent, eventRow: Int64, options: StripeHandlingOptions = .init(),
        extraRefs: [String] = []
    ) async throws -> StripeEffect {
        try await apply(tx, event, object: StripeEventObject(event), eventRow: eventRow, options: options, extraRefs: extraRefs)
    }

    /// Applies an event whose typed object was decoded beforehand (outside the transaction).
    /// - Parameter extraRefs: payment ids found outside the transaction (the invoice of a refunded or disputed
    ///   payment intent, asked of Stripe), added to those the object names.
    /// - Parameter plan: the result of `object.planLookup`, when it went out with the ledger claim.
    static func apply(
        _ tx: PGConnection, _ event: StripeEvent, object: StripeEventObject, eventRow: Int64,
        options: StripeHandlingOptions, extraRefs: [String], plan: PrefetchedPlan? = nil
    ) async throws -> StripeEffect {
        let context = Context(event: event, eventRow: eventRow, options: options, prefetchedPlan: plan)
        switch object {
        case .checkoutSession(let session):
            return try await StripeCheckoutHandling.completed(tx, context, session)
        case .invoice(let invoice) where event.type == .invoicePaymentFailed:
            return try await StripeInvoiceHandling.failed(tx, context, invoice)
        case .invoice(let invoice):
            return try await StripeInvoiceHandling.paid(tx, context, invoice)
        case .subscription(let subscription):
            return try await StripeSubscriptionSync.apply(tx, context, subscription)
        case .charge(let charge):
            return try await StripeReversalHandling.refunded(tx, context, charge, extraRefs: extraRefs)
        case .dispute(let dispute):
            return try await StripeReversalHandling.disputed(tx, context, dispute, extraRefs: extraRefs)
        case .none:
            return .none
        }
    }

    /// What every handler needs of the event being applied.
    struct Context {
        let event: StripeEvent
        let eventRow: Int64
        let options: StripeHandlingOptions
        var prefetchedPlan: PrefetchedPlan?

        var cause: ChangeCause {
            ChangeCause(actor: .stripe, reason: "\(event.type.rawValue) \(event.id)", paymentEventID: eventRow)
        }
    }

    /// The user an object belongs to: our metadata first, then the customer link.
    ///
    /// - Parameter verify: check that a user named in metadata exists (one SELECT). The invoice handlers pass false
    ///   and run their writes in `reportingUnknownUser`: the foreign keys of what they write check it.
    static func user(
        _ tx: PGConnection, metadataUser: Int64?, customer: String?, object: String, verify: Bool = true
    ) async throws -> Int64 {
        if let id = metadataUser {
            if verify, try await UserStore.find(tx, id: id) == nil { throw StripeProcessingError.unknownUser(id) }
            return id
        }
        if let customer, let id = try await StripeCustomerStore.userID(tx, customerID: customer) { return id }
        throw StripeProcessingError.noUser(object: object)
    }

    /// Runs writes that reference `userID`, turning a violation of a `…_user_id_fkey` foreign key (the user does not
    /// exist) into `StripeProcessingError.unknownUser`, as the SELECT that `user(verify: true)` runs would have.
    static func reportingUnknownUser<T>(_ userID: Int64, _ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as PGError
            where error.sqlState == .foreignKeyViolation && error.constraint?.hasSuffix("_user_id_fkey") == true
        {
            throw StripeProcessingError.unknownUser(userID)
        }
    }

    /// The plan is the price: the plan whose `stripe_price_id` is on the object; metadata is only a fallback (a
    /// portal plan switch changes the price, never our checkout metadata).
    /// - Parameter prefetched: the answer to the same question, already read with the ledger claim.
    static func plan(
        _ tx: PGConnection, code: String?, priceIDs: [String], object: String, prefetched: PrefetchedPlan? = nil
    ) async throws -> Plan {
        let found =
            if let prefetched {
                prefetched.plan
            } else {
                try await tx.query(PlanStore.pricedPlanQuery(code: code, priceIDs: priceIDs)).first.map(PlanStore.decode)
            }
        guard let found else { throw StripeProcessingError.unknownPlan(object: object) }
        return found
    }

    /// The plan an object names, read in the ledger claim's round trip (nil: no plan has its prices or code).
    struct PrefetchedPlan: Sendable {
        let plan: Plan?
    }

    static func date(_ unix: Int64) -> Date { Date(timeIntervalSince1970: TimeInterval(unix)) }
}

/// Settings of the Stripe handlers.
public struct StripeHandlingOptions: Sendable, Equatable {
    /// Access kept past the paid period after a failed renewal, while Stripe retries (`PAST_DUE_GRACE_DAYS`).
    public var pastDueGrace: Duration

    public init(pastDueGrace: Duration = .seconds(3 * 86_400)) {
        self.pastDueGrace = pastDueGrace
    }
}

/// What applying an event did.
public struct StripeEffect: Sendable, Equatable {
    /// The event changed something we track (else the ledger says `ignored`).
    public var changed: Bool
    /// A payment applied for the first time (a paid invoice or one-time payment, whichever event reported it).
    public var paid: PaidAmount?

    public static let none = StripeEffect(changed: false)

    public init(changed: Bool, paid: PaidAmount? = nil) {
        self.changed = changed
        self.paid = paid
    }
}

/// An amount in a currency's minor unit.
public struct PaidAmount: Sendable, Equatable {
    public var amount: Int64
    public var currency: String

    public init(amount: Int64, currency: String) {
        self.amount = amount
        self.currency = currency
    }
}
