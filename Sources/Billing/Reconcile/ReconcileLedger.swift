import PGClient

/// What reconciliation asks the payment ledger.
public enum ReconcileLedger {
    /// Ledger event ids of `provider` among `ids`.
    public static func known(_ pool: PGPool, _ provider: PaymentProvider, _ ids: [String]) async throws -> Set<String> {
        guard !ids.isEmpty else { return [] }
        return try await pool.withConnection { connection in
            Set(
                try await connection.query(
                    """
                    SELECT event_id FROM payment_events
                    WHERE provider = \(provider.rawValue) AND event_id = ANY(\(ids)::text[])
                    """
                ).map { try $0.decode("event_id", as: String.self) })
        }
    }
}
