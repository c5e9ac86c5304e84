import Foundation
import PGClient

extension CustomerLookupStore {
    /// The user's grants, newest purchase first, each with the invoice of its payment (by payment key:
    /// `stripe:invoice:<id>`, `stripe:payment:<id>`, `stars:<charge id>`) and the ledger event that made it.
    static func grants(_ connection: PGConnection, userID: Int64, limit: Int) async throws -> [CustomerRecord.GrantRow] {
        try await connection.query(
            """
            SELECT g.id AS grant_id, g.plan AS grant_plan, g.source, g.payment_key, g.kind, g.state, g.grace,
                g.purchased_at, g.starts_at, g.ends_at, g.cut_at, g.subscription_ref,
                array_to_string(g.refs, ' ') AS refs_text, g.payment_event_id, p.event_type AS payment_event_type,
                i.id, i.provider, i.provider_invoice_id, i.user_id, i.plan, i.amount, i.currency, i.status,
                i.hosted_url, i.period_start, i.period_end, i.created_at
            FROM entitlement_grants g
            LEFT JOIN payment_events p ON p.id = g.payment_event_id
            LEFT JOIN invoices i ON i.user_id = g.user_id AND (
                (g.payment_key LIKE 'stripe:invoice:%' AND i.provider = 'stripe'
                    AND i.provider_invoice_id = substr(g.payment_key, 16))
                OR (g.payment_key LIKE 'stripe:payment:%' AND i.provider = 'stripe'
                    AND i.provider_invoice_id = substr(g.payment_key, 16))
                OR (g.payment_key LIKE 'stars:%' AND i.provider = 'telegram_stars'
                    AND i.provider_invoice_id = substr(g.payment_key, 7)))
            WHERE g.user_id = \(userID)
            ORDER BY g.purchased_at DESC, g.id DESC LIMIT \(limit)
            """
        ).map { row in
            let invoiceID: Int64? = try row.decode("id")
            return CustomerRecord.GrantRow(
                id: try row.decode("grant_id"), plan: try row.decode("grant_plan"), source: try row.decode("source"),
                paymentKey: try row.decode("payment_key"), kind: try row.decode("kind"), state: try row.decode("state"),
                grace: try row.decode("grace"), purchasedAt: try row.decode("purchased_at"),
                startsAt: try row.decode("starts_at"), endsAt: try row.decode("ends_at"), cutAt: try row.decode("cut_at"),
                subscriptionRef: try row.decode("subscription_ref"),
                refs: (try row.decode("refs_text", as: String.self)).split(separator: " ").map(String.init),
                paymentEventID: try row.decode("payment_event_id"),
                paymentEventType: try row.decode("payment_event_type"),
                invoice: invoiceID == nil ? nil : try InvoiceStore.decode(row))
        }
    }

    static func starsSubscriptions(
        _ connection: PGConnection, userID: Int64, limit: Int
    ) async throws -> [CustomerRecord.StarsSubscriptionRow] {
        try await connection.query(
            """
            SELECT first_charge_id, plan, expires_at, canceled, created_at FROM stars_subscriptions
            WHERE user_id = \(userID) ORDER BY created_at DESC, first_charge_id DESC LIMIT \(limit)
            """
        ).map { row in
            CustomerRecord.StarsSubscriptionRow(
                firstChargeID: try row.decode("first_charge_id"), plan: try row.decode("plan"),
                expiresAt: try row.decode("expires_at"), canceled: try row.decode("canceled"),
                createdAt: try row.decode("created_at"))
        }
    }

    static func stripeSubscriptions(
        _ connection: PGConnection, userID: Int64, limit: Int
    ) async throws -> [CustomerRecord.StripeSubscriptionRow] {
        try await connection.query(
            """
            SELECT subscription_id, plan, status, current_period_end, cancel_at_period_end, ended_at, created_at
            FROM stripe_subscriptions
            WHERE user_id = \(userID) ORDER BY created_at DESC, subscription_id DESC LIMIT \(limit)
            """
        ).map { row in
            CustomerRecord.StripeSubscriptionRow(
                subscriptionID: try row.decode("subscription_id"), plan: try row.decode("plan"),
                status: try row.decode("status"), currentPeriodEnd: try row.decode("current_period_end"),
                cancelAtPeriodEnd: try row.decode("cancel_at_period_end"), endedAt: try row.decode("ended_at"),
                createdAt: try row.decode("created_at"))
        }
    }
}
