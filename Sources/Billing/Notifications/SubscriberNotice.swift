/// What a message to a subscriber is about: the `kind` column of `notification_outbox`, the outbox key's effect, and
/// the `kind` label of `notifications_sent_total`.
public enum NoticeKind: String, Sendable, CaseIterable {
    /// A first purchase (a subscription's first invoice, a first Stars subscription charge, a one-time payment).
    case paymentReceived = "payment_received"
    /// A renewal of a subscription.
    case renewalReceived = "renewal_received"
    /// A Stripe payment failed (the button opens the billing portal).
    case paymentFailed = "payment_failed"
    case refund
    /// Access to a plan is over (the subscription ended, the last paid day passed).
    case accessEnded = "access_ended"
    /// Access ends in 3 days and nothing renews it (found by `AccessExpiryNotices`).
    case accessEnding = "access_ending"
    case trialEnding = "trial_ending"
    /// A cancellation at the period's end was scheduled.
    case subscriptionCancelled = "subscription_cancelled"
    /// Rows written before kinds existed (migration 0011).
    case notice
}

/// The inline button a message carries.
public enum NoticeButton: String, Sendable {
    /// A `web_app` button opening the Mini App's billing page.
    case webApp = "web_app"
    /// A URL button to a Stripe billing portal session, created when the message is sent (sessions are short-lived).
    case portal
    case none
}

/// A message to one subscriber, as queued: its text is final (plan name, amount and date are filled in when the
/// event is applied), the button is resolved when it is sent.
public struct SubscriberNotice: Sendable, Equatable {
    public var kind: NoticeKind
    public var text: String
    public var button: NoticeButton

    public init(kind: NoticeKind, text: String, button: NoticeButton = .webApp) {
        self.kind = kind
        self.text = text
        self.button = button
    }
}

/// An amount in a currency's minor unit (Stars: whole Stars, currency `XTR`).
public struct NoticeAmount: Sendable, Equatable {
    public var minorUnits: Int64
    public var currency: String

    public init(minorUnits: Int64, currency: String) {
        self.minorUnits = minorUnits
        self.currency = currency.uppercased()
    }
}
