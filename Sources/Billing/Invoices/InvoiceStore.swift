import Foundation
import PGClient

/// Invoices of both providers, keyed by (provider, provider invoice id).
public enum InvoiceStore {
    static let columns =
        "id, provider, provider_invoice_id, user_id, plan, amount, currency, status, hosted_url, period_start, period_end, created_at"
    /// `CASE status ... END` arms mapping each status to its rank, built once (the SQL text stays identical, so the
    /// prepared statement is reused).
    static let ranks = InvoiceStatus.allCases.map { "WHEN '\($0.rawValue)' THEN \($0.rank)" }.joined(separator: " ")

    /// Inserts or updates an invoice. The status only moves forward by rank (see `InvoiceStatus`), so events
    /// arriving out of order cannot turn a paid invoice back into an open one.
    @discardableResult
    public static func upsert(_ tx: PGConnection, _ invoice: Invoice) async throws -> Invoice {
        var query = upsertQuery(invoice)
        query.append(" RETURNING \(unsafeRaw: columns)")
        let result = try await tx.query(query)
        guard let row = result.first else { throw BillingError.userNotFound }
        return try decode(row)
    }

    /// Inserts or updates an invoice like `upsert`, without reading it back: the statement goes out with the
    /// transaction's next one (`executeLater`), which also reports its failure (an unknown user's foreign key).
    public static func record(_ tx: PGConnection, _ invoice: Invoice) async throws {
        try await tx.executeLater(upsertQuery(invoice))
    }

    static func upsertQuery(_ invoice: Invoice) -> PGQuery {
        """
        INSERT INTO invoices AS i (provider, provider_invoice_id, user_id, plan, amount, currency, status,
            hosted_url, period_start, period_end, created_at)
        VALUES (\(invoice.provider.rawValue), \(invoice.providerInvoiceID), \(invoice.userID), \(invoice.plan),
            \(invoice.amount), \(invoice.currency.uppercased()), \(invoice.status.rawValue), \(invoice.hostedURL),
            \(invoice.periodStart), \(invoice.periodEnd), \(invoice.createdAt))
        ON CONFLICT (provider, provider_invoice_id) DO UPDATE SET
            status = CASE WHEN (CASE EXCLUDED.status \(unsafeRaw: ranks) END)
                               >= (CASE i.status \(unsafeRaw: ranks) END)
                          THEN EXCLUDED.status ELSE i.status END,
            amount = EXCLUDED.amount,
            plan = coalesce(EXCLUDED.plan, i.plan),
            hosted_url = coalesce(EXCLUDED.hosted_url, i.hosted_url),
            period_start = coalesce(EXCLUDED.period_start, i.period_start),
            period_end = coalesce(EXCLUDED.period_end, i.period_end),
            updated_at = now()
        """
    }

    /// Sets the status of an existing invoice (forward only); nil when there is no such invoice.
    @discardableResult
    public static func advanceStatus(
        _ tx: PGConnection, provider: PaymentProvider, providerInvoiceID: String, to status: InvoiceStatus
    ) async throws -> Invoice? {
        return try await tx.query(
            """
            UPDATE invoices SET status = \(status.rawValue), updated_at = now()
            WHERE provider = \(provider.rawValue) AND provider_invoice_id = \(providerInvoiceID)
              AND \(status.rank) >= (CASE status \(unsafeRaw: ranks) END)
            RETURNING \(unsafeRaw: columns)
            """
        ).first.map(decode)
    }

    public static func find(_ connection: PGConnection, provider: PaymentProvider, providerInvoiceID: String) async throws
        -> Invoice?
    {
        try await connection.query(
            """
            SELECT \(unsafeRaw: columns) FROM invoices
            WHERE provider = \(provider.rawValue) AND provider_invoice_id = \(providerInvoiceID)
            """
        ).first.map(decode)
    }

    /// A page of a user's invoices, newest first, after a keyset position (created_at, id) from the previous page.
    public static func page(
        _ connection: PGConnection, userID: Int64, limit: Int, after cursor: (createdAt: Date, id: Int64)?
    ) async throws -> [Invoice] {
        let limit = max(1, min(limit, 100))
        if let cursor {
            return try await connection.query(
                """
                SELECT \(unsafeRaw: columns) FROM invoices
                WHERE user_id = \(userID) AND (created_at, id) < (\(cursor.createdAt), \(cursor.id))
                ORDER BY created_at DESC, id DESC LIMIT \(limit)
                """
            ).map(decode)
        }
        return try await connection.query(
            """
            SELECT \(unsafeRaw: columns) FROM invoices WHERE user_id = \(userID)
            ORDER BY created_at DESC, id DESC LIMIT \(limit)
            """
        ).map(decode)
    }

    static func decode(_ row: PGRow) throws -> Invoice {
        Invoice(
            id: try row.decode("id"),
            provider: PaymentProvider(rawValue: try row.decode("provider", as: String.self)) ?? .stripe,
            providerInvoiceID: try row.decode("provider_invoice_id"),
            userID: try row.decode("user_id"),
            plan: try row.decode("plan"),
            amount: try row.decode("amount"),
            currency: try row.decode("currency"),
            status: InvoiceStatus(rawValue: try row.decode("status", as: String.self)) ?? .open,
            hostedURL: try row.decode("hosted_url"),
            periodStart: try row.decode("period_start"),
            periodEnd: try row.decode("period_end"),
            createdAt: try row.decode("created_at"))
    }
}
