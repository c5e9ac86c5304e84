import Billing
import Foundation

/// The reference model of the money lifecycle rules: pure Swift, no database. Given the set of facts a customer's
/// history consists of (delivery order and duplicates do not matter to it), it says what `user_entitlements` must
/// read for each plan: status and `expires_at` to the second. `MoneyLifecycleModelTests` compares it with what the
/// real processors leave in PostgreSQL.
enum MoneyModel {
    struct Grant {
        var key: String
        var plan: String
        enum Kind { case period(Int64, Int64), duration(Int64) }
        var kind: Kind
        var grace = false
        var purchased: Int64
        var subscription: String?
        var refs: [String]
    }

    struct Reading: Equatable, CustomStringConvertible {
        var status: String
        var expiresAt: Int64
        var description: String { "\(status) until \(expiresAt)" }
    }

    /// What each plan reads after all of `facts` (plans with no grant have no row: absent from the result).
    static func readings(_ facts: [MoneyFact], graceSeconds: Int64, revokedPlans: Set<String>) -> [String: Reading] {
        var grants: [String: Grant] = [:]
        var refunded: Set<String> = []
        var disputes: [String: (refs: [String], status: String, closed: Bool)] = [:]
        var ended: [String: Int64] = [:]
        for fact in facts {
            switch fact {
            case .starsPayment(let charge, let plan, let paidAt, let days):
                grants["stars:" + charge] = Grant(
                    key: "stars:" + charge, plan: plan, kind: .duration(days * 86_400), purchased: paidAt,
                    refs: ["stars:" + charge])
            case .starsRefund(let charge):
                refunded.insert("stars:" + charge)
            case .invoicePaid(_, _, let invoice):
                grants["stripe:invoice:" + invoice.id] = Grant(
                    key: "stripe:invoice:" + invoice.id, plan: invoice.plan,
                    kind: .period(invoice.periodStart, invoice.periodEnd), purchased: invoice.created,
                    subscription: invoice.subscription, refs: invoice.refs)
            case .invoiceFailed(_, let invoice):
                if graceSeconds > 0 {
                    grants["stripe:grace:" + invoice.id] = Grant(
                        key: "stripe:grace:" + invoice.id, plan: invoice.plan,
                        kind: .period(invoice.periodStart, invoice.periodStart + graceSeconds), grace: true,
                        purchased: invoice.periodStart, subscription: invoice.subscription, refs: [])
                }
            case .chargeRefunded(_, let refs):
                refunded.formUnion(refs)
            case .disputeCreated(_, let id, let refs):
                if disputes[id] == nil { disputes[id] = (refs, "open", false) }
            case .disputeClosed(_, let id, let refs, let won):
                disputes[id] = ((disputes[id]?.refs ?? []) + refs, won ? "won" : "lost", true)
            case .subscriptionDeleted(_, let subscription, let at):
                ended[subscription] = min(ended[subscription] ?? at, at)
            case .checkoutPaid(_, let session, let paymentIntent, let plan, let created, let days):
                grants["stripe:payment:" + paymentIntent] = Grant(
                    key: "stripe:payment:" + paymentIntent, plan: plan, kind: .duration(days * 86_400),
                    purchased: created, refs: ["cs:" + session, "pi:" + paymentIntent])
            case .adminGrant(let key, let plan, let days, let at):
                grants["admin:" + key] = Grant(
                    key: "admin:" + key, plan: plan, kind: .duration(days * 86_400), purchased: at, refs: [])
            }
        }
        func state(_ grant: Grant) -> String {
            if revokedPlans.contains(grant.plan) { return "revoked" }
            if grant.refs.contains(where: refunded.contains) { return "refunded" }
            let matching = disputes.values.filter { !Set($0.refs).isDisjoint(with: grant.refs) }
            if matching.contains(where: { $0.status == "lost" }) { return "charged_back" }
            if matching.contains(where: { $0.status == "open" }) { return "disputed" }
            return "active"
        }
        var result: [String: Reading] = [:]
        for plan in Set(grants.values.map(\.plan)) {
            // Purchase time, then the payment key byte by byte (`COLLATE "C"` in the SQL).
            let ordered = grants.values.filter { $0.plan == plan }.sorted { a, b in
                a.purchased != b.purchased ? a.purchased < b.purchased : a.key.utf8.lexicographicallyPrecedes(b.key.utf8)
            }
            result[plan] = layout(ordered, state: state, ended: ended)
        }
        return result
    }

    /// The layout rule of `entitlement_recompute`, step for step.
    static func layout(_ ordered: [Grant], state: (Grant) -> String, ended: [String: Int64]) -> Reading {
        var intervals: [(Int64, Int64)] = []
        var lastEnd: Int64?
        var lastGrace = false
        var lastCut = false
        var latest: Grant?
        var latestState = "active"
        for grant in ordered {
            latest = grant
            latestState = state(grant)
            let cut = grant.subscription.flatMap { ended[$0] }
            guard latestState == "active" else { continue }
            var start: Int64
            var end: Int64
            switch grant.kind {
            case .period(let s, let e):
                (start, end) = (s, e)
            case .duration(let length):
                var held = grant.purchased
                var moved = true
                while moved {
                    moved = false
                    for (s, e) in intervals where s <= held && e > held {
                        held = e
                        moved = true
                    }
                }
                (start, end) = (held, held + length)
            }
            var wasCut = false
            if let cut, cut <= end {
                end = cut
                wasCut = true
            }
            guard end > start else { continue }
            intervals.append((start, end))
            if lastEnd == nil || end > lastEnd! || (end == lastEnd! && (lastGrace || lastCut) && !grant.grace && !wasCut) {
                lastEnd = end
                lastGrace = grant.grace
                lastCut = wasCut
            }
        }
        if let lastEnd {
            return Reading(status: lastCut ? "canceled" : lastGrace ? "past_due" : "active", expiresAt: lastEnd)
        }
        guard let latest else { return Reading(status: "expired", expiresAt: 0) }
        let cut = latest.subscription.flatMap { ended[$0] } != nil
        let status =
            ["refunded", "charged_back", "disputed", "revoked"].contains(latestState)
            ? "revoked" : (latestState == "canceled" || cut) ? "canceled" : "expired"
        return Reading(status: status, expiresAt: latest.purchased)
    }
}
