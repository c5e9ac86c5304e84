import Foundation

/// Every text a subscriber receives from the billing side, in one place. Each names the plan, and the amount and
/// the date where there is one. Buttons: `buttonTitle(for:)`.
public enum SubscriberMessages {
    /// - Parameters:
    ///   - plan: the plan's display name.
    ///   - amount: what was paid or refunded.
    ///   - until: the date access lasts to.
    ///   - renewal: a renewal rather than a first purchase.
    public static func paymentReceived(plan: String, amount: NoticeAmount?, until: Date, renewal: Bool)
        -> SubscriberNotice
    {
        let paid = amount.map { " of \(format($0))" } ?? ""
        return renewal
            ? SubscriberNotice(
                kind: .renewalReceived,
                text: "Thank you! Your \(plan) subscription renewed: payment\(paid) received. Access until \(format(until)).")
            : SubscriberNotice(
                kind: .paymentReceived,
                text: "Thank you! Your payment\(paid) for \(plan) was received. Access until \(format(until)).")
    }

    public static func paymentFailed(plan: String, amount: NoticeAmount?, graceUntil: Date?) -> SubscriberNotice {
        let due = amount.map { " of \(format($0))" } ?? ""
        let grace = graceUntil.map { " Your access continues until \(format($0)) while we retry." } ?? ""
        return SubscriberNotice(
            kind: .paymentFailed,
            text: "Your payment\(due) for \(plan) did not go through.\(grace) Please update your payment method.",
            button: .portal)
    }

    public static func refund(plan: String, amount: NoticeAmount?, on date: Date) -> SubscriberNotice {
        let refunded = amount.map { " of \(format($0))" } ?? ""
        return SubscriberNotice(
            kind: .refund,
            text: "Your payment\(refunded) for \(plan) was refunded on \(format(date)). Access from that payment has ended.")
    }

    public static func accessEnded(plan: String, on date: Date) -> SubscriberNotice {
        SubscriberNotice(
            kind: .accessEnded,
            text: "Your access to \(plan) ended on \(format(date)). You can subscribe again at any time.")
    }

    public static func accessEnding(plan: String, on date: Date) -> SubscriberNotice {
        SubscriberNotice(
            kind: .accessEnding,
            text: "Your access to \(plan) ends on \(format(date)) and will not renew. Renew to keep it.")
    }

    public static func trialEnding(plan: String, on date: Date) -> SubscriberNotice {
        SubscriberNotice(
            kind: .trialEnding,
            text: "Your \(plan) trial ends on \(format(date)). Your subscription starts then unless you cancel.")
    }

    public static func subscriptionCancelled(plan: String, accessUntil: Date?) -> SubscriberNotice {
        let until = accessUntil.map { " You keep access until \(format($0))." } ?? ""
        return SubscriberNotice(
            kind: .subscriptionCancelled,
            text: "Your \(plan) subscription is cancelled and will not renew.\(until)")
    }

    /// The label of a message's button.
    public static func buttonTitle(for kind: NoticeKind, button: NoticeButton) -> String {
        switch (button, kind) {
        case (.portal, _): "Update payment method"
        case (_, .accessEnded), (_, .accessEnding), (_, .subscriptionCancelled): "Renew"
        default: "Manage subscription"
        }
    }

    // MARK: Formatting

    /// Currencies without minor units (Stripe's zero-decimal list, and Stars).
    static let zeroDecimal: Set<String> = [
        "XTR", "BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "MGA", "PYG", "RWF", "UGX", "VND", "VUV", "XAF", "XOF",
        "XPF",
    ]

    /// `250 ⭐`, `9.99 USD`, `500 JPY`.
    public static func format(_ amount: NoticeAmount) -> String {
        if amount.currency == "XTR" { return "\(amount.minorUnits) ⭐" }
        if zeroDecimal.contains(amount.currency) { return "\(amount.minorUnits) \(amount.currency)" }
        let sign = amount.minorUnits < 0 ? "-" : ""
        let units = amount.minorUnits.magnitude
        let cents = units % 100
        return "\(sign)\(units / 100).\(cents < 10 ? "0" : "")\(cents) \(amount.currency)"
    }

    static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// The Gregorian calendar in UTC, made once (a payment's message formats a date on the webhook's path).
    static let utcCalendar: Calendar = {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC") ?? calendar.timeZone
        return calendar
    }()

    /// `6 Dec 2026` (UTC): the same for every reader and every server.
    public static func format(_ date: Date) -> String {
        let parts = utcCalendar.dateComponents([.year, .month, .day], from: date)
        let month = parts.month.map { months.indices.contains($0 - 1) ? months[$0 - 1] : "" } ?? ""
        return "\(parts.day ?? 1) \(month) \(parts.year ?? 1970)"
    }
}
