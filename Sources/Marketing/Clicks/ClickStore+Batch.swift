import PGClient

extension ClickStore {
    /// A validated click ready for the batch insert.
    struct Row: Sendable {
        var userID: Int64
        var click: NewClick
        /// The metadata as JSON text.
        var metadata: String

        /// Validates `click`.
        init(userID: Int64, click: NewClick) throws(ClickError) {
            self.userID = userID
            self.click = try click.validated()
            self.metadata = try NewClick.metadataText(self.click.metadata)
        }
    }

    /// Inserts all rows in one statement (one column array per parameter, so the statement text, and its prepared
    /// plan, is the same for every batch size) and returns their ids in the order of `rows`.
    ///
    /// The ids come from the identity sequence while the rows are inserted in `ordinality` order, so within one
    /// statement they increase in input order; sorting the returned ids restores it whatever order RETURNING uses.
    static func insertBatch(_ connection: PGConnection, rows: [Row]) async throws -> [Int64] {
        guard !rows.isEmpty else { return [] }
        func column(_ values: [String?]) -> PGBind { PGBind(oid: PGType.unspecified, text: PGArrayLiteral.text(values)) }
        let users = PGBind(oid: PGType.unspecified, text: PGArrayLiteral.int64(rows.map(\.userID)))
        let query = PGQuery(
            unsafeSQL: """
                INSERT INTO marketing_clicks (user_id, cta_type, channel, utm_source, utm_campaign, metadata)
                SELECT u, c, ch, us, uc, m
                FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::jsonb[])
                    WITH ORDINALITY AS t(u, c, ch, us, uc, m, n)
                ORDER BY n
                RETURNING id
                """,
            binds: [
                users,
                column(rows.map(\.click.ctaType)),
                column(rows.map(\.click.channel)),
                column(rows.map(\.click.utmSource)),
                column(rows.map(\.click.utmCampaign)),
                column(rows.map(\.metadata)),
            ])
        do {
            let result = try await connection.query(query)
            var ids = try result.map { try $0.decode("id", as: Int64.self) }
            guard ids.count == rows.count else {
                throw PGError(kind: .usage, message: "batch insert returned \(ids.count) ids for \(rows.count) rows")
            }
            ids.sort()
            return ids
        } catch let error as PGError {
            throw mapped(error)
        }
    }

    /// Inserts one already validated row.
    static func insert(_ connection: PGConnection, row: Row) async throws -> Int64 {
        try await insertBatch(connection, rows: [row])[0]
    }
}
