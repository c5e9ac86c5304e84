import Foundation
import PGClient

/// Reads for the operators' one-customer view (`GET /admin/v1/users/{telegram_id}`) and customer search.
public enum CustomerLookupStore {
    /// The ledger rows that concern the user of a query's `WITH target AS (SELECT <id>::bigint AS uid)`: events
    /// their grants or audit rows name, and Stars payments and refunds of their charges (`<charge id>`,
    /// `refund:<charge id>`). A failed event that never reached a user (its body named nobody the server knows)
    /// cannot be attributed, so it is not among them.
    static let userEventIDs = """
        SELECT payment_event_id FROM entitlement_grants
            WHERE user_id = (SELECT uid FROM target) AND payment_event_id IS NOT NULL
        UNION SELECT payment_event_id FROM entitlement_changes
            WHERE user_id = (SELECT uid FROM target) AND payment_event_id IS NOT NULL
        UNION SELECT p.id FROM invoices i JOIN payment_events p
            ON p.provider = 'telegram_stars' AND p.event_id IN (i.provider_invoice_id, 'refund:' || i.provider_invoice_id)
            WHERE i.provider = 'telegram_stars' AND i.user_id = (SELECT uid FROM target)
        """

    /// A user by Telegram id.
    public static func user(_ connection: PGConnection, telegramID: Int64) async throws -> CustomerRecord.CustomerSummary? {
        try await connection.query(
            "SELECT id, telegram_user_id, username, first_name, created_at FROM users WHERE telegram_user_id = \(telegramID)"
        ).first.map(decodeUser)
    }

    /// Users matching `query`: a number matches a Telegram id or a user id exactly; text (a leading `@` dropped)
    /// matches usernames by case-insensitive prefix. Newest first.
    public static func search(_ connection: PGConnection, query: String, limit: Int) async throws -> [CustomerRecord.CustomerSummary] {
        let limit = max(1, min(limit, 100))
        if let number = Int64(query) {
            return try await connection.query(
                """
                SELECT id, telegram_user_id, username, first_name, created_at FROM users
                WHERE telegram_user_id = \(number) OR id = \(number)
                ORDER BY created_at DESC, id DESC LIMIT \(limit)
                """
            ).map(decodeUser)
        }
        let name = query.hasPrefix("@") ? String(query.dropFirst()) : query
        let escaped = name.lowercased().replacingOccurrences(of: "\\", with: "\\\\")
            .replacingOccurrences(of: "%", with: "\\%").replacingOccurrences(of: "_", with: "\\_")
        return try await connection.query(
            """
            SELECT id, telegram_user_id, username, first_name, created_at FROM users
            WHERE username IS NOT NULL AND lower(username) LIKE \(escaped + "%")
            ORDER BY created_at DESC, id DESC LIMIT \(limit)
            """
        ).map(decodeUser)
    }

    /// Everything about `user`, each list newest first and at most `limit` long.
    public static func record(
        _ connection: PGConnection, user: CustomerRecord.CustomerSummary, limit: Int
    ) async throws -> CustomerRecord {
        let limit = max(1, min(limit, 200))
        let userID = user.id
        let entitlements = try await connection.query(
            """
            SELECT plan, status, source, starts_at, expires_at, updated_at FROM user_entitlements
            WHERE user_id = \(userID) ORDER BY updated_at DESC, id DESC LIMIT \(limit)
            """
        ).map { row in
            CustomerRecord.Entitlement(
                plan: try row.decode("plan"), status: try row.decode("status"), source: try row.decode("source"),
                startsAt: try row.decode("starts_at"), expiresAt: try row.decode("expires_at"),
                updatedAt: try row.decode("updated_at"))
        }
        let events = try await connection.query(
            """
            WITH target AS (SELECT \(userID)::bigint AS uid)
            SELECT id, provider, event_id, event_type, status, attempts, last_error, received_at, processed_at,
                next_attempt_at
            FROM payment_events WHERE id IN (\(unsafeRaw: userEventIDs))
            ORDER BY received_at DESC, id DESC LIMIT \(limit)
            """
        ).map(PaymentLedger.decode)
        let changes = try await connection.query(
            """
            SELECT id, plan, action, actor, reason, before_status, after_status, before_expires_at, after_expires_at,
                payment_event_id, grant_id, created_at
            FROM entitlement_changes WHERE user_id = \(userID) ORDER BY id DESC LIMIT \(limit)
            """
        ).map(decodeChange)
        return await CustomerRecord(
            user: user, entitlements: entitlements, grants: try grants(connection, userID: userID, limit: limit),
            invoices: try await InvoiceStore.page(connection, userID: userID, limit: min(limit, 100), after: nil),
            paymentEvents: events, changes: changes,
            starsSubscriptions: try starsSubscriptions(connection, userID: userID, limit: limit),
            stripeSubscriptions: try stripeSubscriptions(connection, userID: userID, limit: limit))
    }

    static func decodeUser(_ row: PGRow) throws -> CustomerRecord.CustomerSummary {
        CustomerRecord.CustomerSummary(
            id: try row.decode("id"), telegramID: try row.decode("telegram_user_id"),
            username: try row.decode("username"), firstName: try row.decode("first_name"),
            createdAt: try row.decode("created_at"))
    }

    static func decodeChange(_ row: PGRow) throws -> CustomerRecord.ChangeRow {
        CustomerRecord.ChangeRow(
            id: try row.decode("id"), plan: try row.decode("plan"), action: try row.decode("action"),
            actor: try row.decode("actor"), reason: try row.decode("reason"),
            beforeStatus: try row.decode("before_status"), afterStatus: try row.decode("after_status"),
            beforeExpiresAt: try row.decode("before_expires_at"), afterExpiresAt: try row.decode("after_expires_at"),
            paymentEventID: try row.decode("payment_event_id"), grantID: try row.decode("grant_id"),
            createdAt: try row.decode("created_at"))
    }
}
