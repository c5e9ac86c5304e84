import Foundation
import PGClient

/// `charge.refunded` (a full refund ends what the payment bought, for good, in any delivery order) and
/// `charge.dispute.created|closed` (open suspends, won restores, anything else ends).
enum StripeReversalHandling {
    static func refunded(
        _ tx: PGConnection, _ context: StripeEventHandler.Context, _ charge: StripeCharge, extraRefs: [String]
    ) async throws -> StripeEffect {
        guard charge.isFullyRefunded else { return .none }
        let refs = unique(
            [GrantRef.charge(charge.id)]
                + [charge.paymentIntent.map(GrantRef.paymentIntent), charge.invoice.map(GrantRef.invoice)].compactMap { $0 }
                + extraRefs)
        try await GrantStore.lockPayments(tx, refs: refs)
        // Ends the grants (and marks their invoices refunded); a payment arriving later finds the tombstones.
        let ended = try await GrantStore.refund(tx, refs: refs, cause: context.cause)
        try await SubscriberNotices.refunded(
            tx, ended, key: "stripe:refund:" + charge.id,
            amount: NoticeAmount(minorUnits: charge.amountRefunded, currency: charge.currency), on: context.event.createdAt)
        // Even with no grant to end yet, the tombstone changed something: the payment, when it comes, grants nothing.
        return StripeEffect(changed: true)
    }

    static func disputed(
        _ tx: PGConnection, _ context: StripeEventHandler.Context, _ dispute: StripeDispute, extraRefs: [String]
    ) async throws -> StripeEffect {
        let outcome: GrantStore.DisputeOutcome =
            switch context.event.type {
            case .chargeDisputeClosed: dispute.status == "won" ? .won : .lost
            default: .open
            }
        let refs = unique(dispute.paymentRefs + extraRefs)
        try await GrantStore.lockPayments(tx, refs: refs)
        try await GrantStore.dispute(tx, disputeID: dispute.id, refs: refs, outcome: outcome, cause: context.cause)
        return StripeEffect(changed: true)
    }

    private static func unique(_ refs: [String]) -> [String] {
        var seen: Set<String> = []
        return refs.filter { seen.insert($0).inserted }
    }
}
