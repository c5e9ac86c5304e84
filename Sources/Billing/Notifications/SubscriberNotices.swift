import Foundation
import PGClient

/// Queues messages to subscribers from inside the transaction that applies what they are about (a payment, a
/// refund, a subscription change), keyed so that every redelivery, retry or reconciliation of the same fact finds
/// the message already queued. Sending happens after the commit (`NotificationSender`).
public enum SubscriberNotices {
    /// The outbox key of "access to `plan` ended at `endedAt`": the same whichever path notices it (a Stripe
    /// subscription's deletion, or the periodic `AccessExpiryNotices` run), so the user gets one message.
    public static func accessEndedKey(userID: Int64, plan: String, endedAt: Date) -> String {
        "access:\(userID):\(plan):\(Int64(endedAt.timeIntervalSince1970.rounded(.down)))"
    }

    /// The outbox key of a cancellation at the period's end (the Mini App path and the Stripe webhook agree on it).
    public static func cancellationKey(provider: String, subscriptionID: String, periodEnd: Date?) -> String {
        "\(provider):cancel:\(subscriptionID):\(periodEnd.map { Int64($0.timeIntervalSince1970.rounded(.down)) } ?? 0)"
    }

    /// The display name of a plan (its code when unknown).
    public static func planName(_ tx: PGConnection, code: String) async throws -> String {
        try await tx.query("SELECT name FROM plans WHERE code = \(code)").first?.decode("name", as: String.self) ?? code
    }

    /// Queues "access ended" for each (user, plan) a change left without access now (cut or expired, not revoked:
    /// a refund has its own message).
    public static func accessEndedIfOver(_ tx: PGConnection, _ changes: [GrantStore.Recomputed], now: Date = Date())
        async throws
    {
        for change in changes where change.state.expiresAt <= now && change.state.status != .revoked {
            let name = try await planName(tx, code: change.plan)
            try await NotificationOutbox.enqueue(
                tx, eventKey: accessEndedKey(userID: change.userID, plan: change.plan, endedAt: change.state.expiresAt),
                notice: SubscriberMessages.accessEnded(plan: name, on: change.state.expiresAt), userID: change.userID)
        }
    }

    /// Queues "refund" for each (user, plan) whose grants a refund ended.
    /// - Parameter key: the refund's key (`stripe:refund:ch_…`, `stars:refund:<charge>`); the plan is appended.
    public static func refunded(
        _ tx: PGConnection, _ changes: [GrantStore.Recomputed], key: String, amount: NoticeAmount?, on date: Date
    ) async throws {
        for change in changes {
            let name = try await planName(tx, code: change.plan)
            try await NotificationOutbox.enqueue(
                tx, eventKey: key + ":" + change.plan,
                notice: SubscriberMessages.refund(plan: name, amount: amount, on: date), userID: change.userID)
        }
    }
}
