import Foundation
import PGClient

/// One row of `reconcile_runs`: a reconciliation run for one provider (see `telebot reconcile`).
public struct ReconcileRun: Sendable, Equatable {
    public let id: Int64
    public let provider: PaymentProvider
    public let windowStart: Date
    public let windowEnd: Date
    public let seen: Int
    public let recovered: Int
    public let failed: Int
    public let startedAt: Date
    /// nil while the run is still going (or when its instance died mid-run).
    public let finishedAt: Date?
}

/// Reads `reconcile_runs` for the operators' console. The rows are written by the reconciler; this only lists them.
public enum ReconcileRunsStore {
    /// The newest runs first (by `started_at`, then `id`), at most `limit` (clamped to 1...100).
    /// - Parameters:
    ///   - provider: only this provider's runs, or every provider's when nil.
    ///   - limit: how many rows at most.
    public static func list(_ connection: PGConnection, provider: PaymentProvider?, limit: Int) async throws -> [ReconcileRun] {
        try await connection.query(
            """
            SELECT id, provider, window_start, window_end, seen, recovered, failed, started_at, finished_at
            FROM reconcile_runs
            WHERE (\(provider?.rawValue)::text IS NULL OR provider = \(provider?.rawValue))
            ORDER BY started_at DESC, id DESC
            LIMIT \(max(1, min(limit, 100)))
            """
        ).map { row in
            ReconcileRun(
                id: try row.decode("id"),
                provider: PaymentProvider(rawValue: try row.decode("provider", as: String.self)) ?? .stripe,
                windowStart: try row.decode("window_start"),
                windowEnd: try row.decode("window_end"),
                seen: try row.decode("seen"),
                recovered: try row.decode("recovered"),
                failed: try row.decode("failed"),
                startedAt: try row.decode("started_at"),
                finishedAt: try row.decode("finished_at"))
        }
    }
}
