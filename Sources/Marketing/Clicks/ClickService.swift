import PGClient
import Support

/// What the Mini App API's click routes call. Every method is scoped to the authenticated user's id.
///
/// - `POST /api/v1/marketing/clicks` → `create` (201 `{"id"}`)
/// - `GET /api/v1/marketing/clicks/{id}` → `get`
/// - `PATCH /api/v1/marketing/clicks/{id}` → `patchMetadata` (top-level merge, see `ClickStore.patchMetadata`)
/// - `GET /api/v1/marketing/clicks?limit=&cursor=` → `list`
///
/// Errors: `ClickError.notFound` → 404; other `ClickError`s → 400; anything else → 500.
public struct ClickService: Sendable {
    let pool: PGPool
    let writer: BatchedClickWriter?
    let metrics: MarketingMetrics

    /// - Parameters:
    ///   - pool: the database.
    ///   - writer: batches inserts when given (the high-volume path); nil inserts one row per call.
    ///   - metrics: counts `marketing_clicks_total`.
    public init(pool: PGPool, writer: BatchedClickWriter? = nil, metrics: MarketingMetrics = MarketingMetrics()) {
        self.pool = pool
        self.writer = writer
        self.metrics = metrics
    }

    /// Logs a click for the user and returns its id once committed.
    public func create(userID: Int64, click: NewClick) async throws -> Int64 {
        let id: Int64
        if let writer {
            id = try await writer.insert(userID: userID, click: click)
        } else {
            let row = try ClickStore.Row(userID: userID, click: click)
            id = try await pool.withConnection { try await ClickStore.insert($0, row: row) }
        }
        metrics.recordClicks(ctaType: click.ctaType)
        return id
    }

    /// The user's click. - Throws: `ClickError.notFound` (also for another user's click).
    public func get(userID: Int64, id: Int64) async throws -> Click {
        try await pool.withConnection { try await ClickStore.find($0, userID: userID, id: id) }
    }

    /// Merges `patch` into the metadata of the user's click (a `null` value removes a key) and returns the click.
    public func patchMetadata(userID: Int64, id: Int64, patch: [String: JSONValue]) async throws -> Click {
        try await pool.withConnection { try await ClickStore.patchMetadata($0, userID: userID, id: id, patch: patch) }
    }

    /// A page of the user's clicks, newest first. `limit` nil means 20; `cursor` is the previous `nextCursor`.
    public func list(userID: Int64, limit: Int?, cursor: String?) async throws -> ClickPage {
        try await pool.withConnection { try await ClickStore.list($0, userID: userID, limit: limit, cursor: cursor) }
    }
}
