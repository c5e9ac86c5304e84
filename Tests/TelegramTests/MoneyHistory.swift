import Foundation

/// One fact of a customer's money history, as a provider reports it (each may be delivered several times, in any
/// order). Stripe facts carry their event id, so a redelivery is the same event.
enum MoneyFact {
    struct Invoice {
        var id: String
        var subscription: String
        var plan: String
        var priceID: String
        var periodStart: Int64
        var periodEnd: Int64
        var created: Int64
        var paymentIntent: String
        var charge: String
        var refs: [String] { ["in:" + id, "pi:" + paymentIntent, "ch:" + charge] }
    }

    case starsPayment(charge: String, plan: String, paidAt: Int64, days: Int64)
    case starsRefund(charge: String)
    /// `invoice.paid` or `invoice.payment_succeeded`.
    case invoicePaid(eventID: String, type: String, Invoice)
    case invoiceFailed(eventID: String, Invoice)
    /// A full refund naming these refs (the charge, its payment intent, and the invoice on old API versions).
    case chargeRefunded(eventID: String, refs: [String])
    case disputeCreated(eventID: String, id: String, refs: [String])
    case disputeClosed(eventID: String, id: String, refs: [String], won: Bool)
    case subscriptionDeleted(eventID: String, subscription: String, at: Int64)
    case checkoutPaid(eventID: String, session: String, paymentIntent: String, plan: String, created: Int64, days: Int64)
    /// An operator's grant (not a webhook: applied after the deliveries, in history order).
    case adminGrant(key: String, plan: String, days: Int64, at: Int64)

    var isWebhook: Bool {
        if case .adminGrant = self { return false }
        return true
    }
}

/// SplitMix64: a small seeded generator, so a failing history can be replayed from its seed.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Random customer histories over two plans: `pm` (recurring: a Stripe subscription's invoices, renewals, failures,
/// refunds, disputes, deletion) and `boost` (one-time: Stars payments and refunds, Stripe Checkout payments,
/// admin grants).
enum MoneyHistoryGenerator {
    static let day: Int64 = 86_400

    static func history(_ random: inout SeededGenerator, tag: String, base: Int64) -> (facts: [MoneyFact], revoke: Bool) {
        var facts: [MoneyFact] = []
        // Ids come from a counter, not from `random`: the same seed with another tag is the same history under
        // other ids (so it can run again, in another order, in the same database).
        var counter = 0
        func id(_ prefix: String) -> String {
            counter += 1
            return "\(prefix)_\(tag)_\(counter)"
        }
        // Stripe subscription on pm: consecutive 30-day periods.
        let subscription = id("sub")
        let paidPeriods = Int.random(in: 0...3, using: &random)
        var invoices: [MoneyFact.Invoice] = []
        for period in 0..<(paidPeriods + 1) {
            let start = base + Int64(period) * 30 * day
            invoices.append(
                MoneyFact.Invoice(
                    id: id("in"), subscription: subscription, plan: "pm", priceID: "price_pm", periodStart: start,
                    periodEnd: start + 30 * day, created: start + Int64.random(in: 0...600, using: &random),
                    paymentIntent: id("pi"), charge: id("ch")))
        }
        for (index, invoice) in invoices.enumerated() {
            let isLast = index == invoices.count - 1
            if isLast, index > 0, Bool.random(using: &random) {
                // The renewal fails first; sometimes Stripe's retry succeeds later.
                facts.append(.invoiceFailed(eventID: id("evt"), invoice))
                if Bool.random(using: &random) { facts.append(.invoicePaid(eventID: id("evt"), type: "invoice.paid", invoice)) }
                continue
            }
            if isLast, index > 0, Bool.random(using: &random) { continue }  // not billed yet
            let types = [["invoice.paid"], ["invoice.payment_succeeded"], ["invoice.paid", "invoice.payment_succeeded"]]
            for type in types.randomElement(using: &random) ?? ["invoice.paid"] {
                facts.append(.invoicePaid(eventID: id("evt"), type: type, invoice))
            }
            switch Int.random(in: 0..<10, using: &random) {
            case 0:  // refund on an old API version: the charge names its invoice
                facts.append(.chargeRefunded(eventID: id("evt"), refs: invoice.refs))
            case 1:  // refund on a current API version: only the charge and its payment intent
                facts.append(.chargeRefunded(eventID: id("evt"), refs: ["ch:" + invoice.charge, "pi:" + invoice.paymentIntent]))
            case 2, 3:
                let dispute = id("dp")
                let refs = ["ch:" + invoice.charge, "pi:" + invoice.paymentIntent]
                facts.append(.disputeCreated(eventID: id("evt"), id: dispute, refs: refs))
                if Bool.random(using: &random) {
                    facts.append(.disputeClosed(eventID: id("evt"), id: dispute, refs: refs, won: Bool.random(using: &random)))
                }
            default: break
            }
        }
        if Int.random(in: 0..<3, using: &random) == 0 {
            let at = base + Int64.random(in: 0...(Int64(invoices.count) * 30 * day), using: &random)
            facts.append(.subscriptionDeleted(eventID: id("evt"), subscription: subscription, at: at))
        }
        // One-time plan: Stars payments, Stripe Checkout payments, admin grants, at random times in 90 days.
        for _ in 0..<Int.random(in: 0...3, using: &random) {
            let charge = id("stars")
            facts.append(
                .starsPayment(charge: charge, plan: "boost", paidAt: base + Int64.random(in: 0...(90 * day), using: &random), days: 7))
            if Int.random(in: 0..<4, using: &random) == 0 { facts.append(.starsRefund(charge: charge)) }
        }
        for _ in 0..<Int.random(in: 0...2, using: &random) {
            let paymentIntent = id("pi")
            facts.append(
                .checkoutPaid(
                    eventID: id("evt"), session: id("cs"), paymentIntent: paymentIntent, plan: "boost",
                    created: base + Int64.random(in: 0...(90 * day), using: &random), days: 7))
            switch Int.random(in: 0..<5, using: &random) {
            case 0: facts.append(.chargeRefunded(eventID: id("evt"), refs: ["ch:" + id("ch"), "pi:" + paymentIntent]))
            case 1:
                let dispute = id("dp")
                let refs = ["ch:" + id("ch"), "pi:" + paymentIntent]
                facts.append(.disputeCreated(eventID: id("evt"), id: dispute, refs: refs))
                facts.append(.disputeClosed(eventID: id("evt"), id: dispute, refs: refs, won: Bool.random(using: &random)))
            default: break
            }
        }
        if Int.random(in: 0..<4, using: &random) == 0 {
            facts.append(.adminGrant(key: id("adm"), plan: "boost", days: 3, at: base + Int64.random(in: 0...(90 * day), using: &random)))
        }
        return (facts, Int.random(in: 0..<12, using: &random) == 0)
    }

    /// The deliveries of a history: each webhook fact one to three times, shuffled.
    static func deliveries(_ facts: [MoneyFact], _ random: inout SeededGenerator) -> [MoneyFact] {
        var deliveries: [MoneyFact] = []
        for fact in facts where fact.isWebhook {
            for _ in 0..<Int.random(in: 1...3, using: &random) { deliveries.append(fact) }
        }
        deliveries.shuffle(using: &random)
        return deliveries
    }
}
