import PGClient
import Support

/// `marketing_clicks`. Functions take a connection so they join the caller's transaction; every read and write
/// is scoped to the caller's user id, so another user's click is indistinguishable from a missing one.
public enum ClickStore {
    static let columns = """
        id, user_id, cta_type, channel, utm_source, utm_campaign, metadata, created_at, updated_at,
        (extract(epoch FROM created_at) * 1000000)::bigint AS created_micros
        """
    /// Page size when the client gives none, and the largest allowed.
    public static let defaultLimit = 20
    public static let maxLimit = 100

    /// Inserts one click (validated first) and returns its id.
    public static func insert(_ connection: PGConnection, userID: Int64, click: NewClick) async throws -> Int64 {
        let click = try click.validated()
        let metadata = try NewClick.metadataText(click.metadata)
        do {
            let result = try await connection.query(
                """
                INSERT INTO marketing_clicks (user_id, cta_type, channel, utm_source, utm_campaign, metadata)
                VALUES (\(userID), \(click.ctaType), \(click.channel), \(click.utmSource), \(click.utmCampaign),
                        \(PGRawJSON(metadata)))
                RETURNING id
                """)
            guard let id = try result.first?.decode("id", as: Int64.self) else {
                throw PGError(kind: .usage, message: "INSERT RETURNING returned no row")
            }
            return id
        } catch let error as PGError {
            throw ClickStore.mapped(error)
        }
    }

    /// The caller's click with this id.
    /// - Throws: `ClickError.notFound` when there is none or it belongs to another user.
    public static func find(_ connection: PGConnection, userID: Int64, id: Int64) async throws -> Click {
        let result = try await connection.query(
            "SELECT \(unsafeRaw: columns) FROM marketing_clicks WHERE id = \(id) AND user_id = \(userID)")
        guard let row = result.first else { throw ClickError.notFound }
        return try decode(row)
    }

    /// Merges `patch` into the click's metadata and returns the updated click.
    ///
    /// Merge semantics (RFC 7386 at the top level): each key of `patch` replaces that key; a key whose value is
    /// JSON `null` removes it; keys not named are kept; nested objects are replaced whole, not merged. An empty
    /// patch changes nothing but `updated_at`. The merged object must still fit 4096 bytes.
    /// - Throws: `ClickError.notFound` for a missing or foreign click, `.invalid(field: .metadata, ...)`.
    public static func patchMetadata(
        _ connection: PGConnection, userID: Int64, id: Int64, patch: [String: JSONValue]
    ) async throws -> Click {
        let patchJSON = PGRawJSON(try NewClick.metadataText(patch))
        do {
            let result = try await connection.query(
                """
                UPDATE marketing_clicks
                SET metadata = (metadata || \(patchJSON))
                        - ARRAY(SELECT key FROM jsonb_each(\(patchJSON)) WHERE jsonb_typeof(value) = 'null'),
                    updated_at = now()
                WHERE id = \(id) AND user_id = \(userID)
                RETURNING \(unsafeRaw: columns)
                """)
            guard let row = result.first else { throw ClickError.notFound }
            return try decode(row)
        } catch let error as PGError {
            throw ClickStore.mapped(error)
        }
    }

    /// The caller's clicks, newest first (`created_at` DESC, `id` DESC), one page at a time.
    /// - Parameters:
    ///   - limit: 1...100; nil means 20.
    ///   - cursor: `next_cursor` of the previous page; nil for the first page.
    /// - Throws: `ClickError.invalidLimit`, `ClickError.invalidCursor`.
    public static func list(_ connection: PGConnection, userID: Int64, limit: Int?, cursor: String?) async throws -> ClickPage {
        let limit = limit ?? defaultLimit
        guard (1...maxLimit).contains(limit) else { throw ClickError.invalidLimit }
        var query: PGQuery = "SELECT \(unsafeRaw: columns) FROM marketing_clicks WHERE user_id = \(userID)"
        if let cursor, !cursor.isEmpty {
            guard let position = KeysetCursor(encoded: cursor) else { throw ClickError.invalidCursor }
            // Row comparison keeps the scan on marketing_clicks_user_created_idx.
            query.append(
                """
                 AND (created_at, id) < ('epoch'::timestamptz + \(position.createdMicros) * interval '1 microsecond',
                                         \(position.id))
                """)
        }
        query.append(" ORDER BY created_at DESC, id DESC LIMIT \(limit + 1)")
        let result = try await connection.query(query)
        var clicks: [Click] = []
        clicks.reserveCapacity(min(result.count, limit))
        var last: KeysetCursor?
        for row in result.prefix(limit) {
            clicks.append(try decode(row))
            last = KeysetCursor(createdMicros: try row.decode("created_micros"), id: try row.decode("id"))
        }
        let next = result.count > limit ? last?.encoded : nil
        return ClickPage(clicks: clicks, nextCursor: next)
    }

    static func decode(_ row: PGRow) throws -> Click {
        Click(
            id: try row.decode("id"),
            userID: try row.decode("user_id"),
            ctaType: try row.decode("cta_type"),
            channel: try row.decode("channel"),
            utmSource: try row.decode("utm_source"),
            utmCampaign: try row.decode("utm_campaign"),
            metadata: try row.decode("metadata", as: PGJSON<[String: JSONValue]>.self).value,
            createdAt: try row.decode("created_at"),
            updatedAt: try row.decode("updated_at"))
    }

    /// Turns the table's constraint violations into the `ClickError` the Swift checks would have thrown (the
    /// database has the last word, for example on the size of merged metadata); other errors pass through.
    static func mapped(_ error: PGError) -> any Error {
        switch error.sqlState {
        case .checkViolation?:
            switch error.constraint {
            case "marketing_clicks_cta_type_format": return ClickError.invalid(field: .ctaType, reason: "must match ^[a-z0-9_]{1,32}$")
            case "marketing_clicks_channel_length": return ClickError.invalid(field: .channel, reason: "must be at most 128 characters")
            case "marketing_clicks_utm_source_length":
                return ClickError.invalid(field: .utmSource, reason: "must be at most 128 characters")
            case "marketing_clicks_utm_campaign_length":
                return ClickError.invalid(field: .utmCampaign, reason: "must be at most 128 characters")
            case "marketing_clicks_metadata_object": return ClickError.invalid(field: .metadata, reason: "must be a JSON object")
            case "marketing_clicks_metadata_size":
                return ClickError.invalid(field: .metadata, reason: "must be at most \(NewClick.maxMetadataBytes) bytes of JSON")
            default: return error
            }
        case .foreignKeyViolation? where error.constraint == "marketing_clicks_user_id_fkey":
            return ClickError.unknownUser
        case SQLState("22P05")?, SQLState("22021")?:
            // untranslatable_character, character_not_in_repertoire (NUL and the like)
            return ClickError.invalid(field: .metadata, reason: "contains characters PostgreSQL cannot store")
        default:
            return error
        }
    }
}
