import Foundation
import PGClient

/// The pause switch of a campaign's promo scheduler.
public struct SchedulerStatus: Sendable, Equatable, Codable {
    public var campaign: String
    public var paused: Bool
    /// When the switch last changed (nil: never).
    public var updatedAt: Date?
    /// Who changed it (as given to `pause`/`resume`).
    public var updatedBy: String?

    public init(campaign: String, paused: Bool, updatedAt: Date?, updatedBy: String?) {
        self.campaign = campaign
        self.paused = paused
        self.updatedAt = updatedAt
        self.updatedBy = updatedBy
    }

    enum CodingKeys: String, CodingKey {
        case campaign, paused
        case updatedAt = "updated_at"
        case updatedBy = "updated_by"
    }

    /// Absent fields encode as `null`.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(campaign, forKey: .campaign)
        try container.encode(paused, forKey: .paused)
        try container.encode(updatedAt, forKey: .updatedAt)
        try container.encode(updatedBy, forKey: .updatedBy)
    }
}

/// Pauses and resumes promo posting for all instances (`POST /admin/v1/marketing/scheduler/{pause|resume}`).
///
/// The switch is a row of `marketing_scheduler_state`; schedulers read it in the same statement that claims a
/// slot or a retry, so after `pause` returns no instance claims anything new. A send already claimed finishes.
/// Resuming mid-slot posts that slot at the next tick if it was not posted yet.
public struct SchedulerControl: Sendable {
    let pool: PGPool

    public init(pool: PGPool) {
        self.pool = pool
    }

    /// Stops posting. Idempotent. - Parameter actor: who asked (stored in `updated_by`, cut to 200 characters).
    @discardableResult
    public func pause(campaign: String = Marketing.defaultCampaign, by actor: String) async throws -> SchedulerStatus {
        try await set(campaign: campaign, paused: true, by: actor)
    }

    /// Starts posting again. Idempotent.
    @discardableResult
    public func resume(campaign: String = Marketing.defaultCampaign, by actor: String) async throws -> SchedulerStatus {
        try await set(campaign: campaign, paused: false, by: actor)
    }

    /// The current switch (running when it was never set).
    public func status(campaign: String = Marketing.defaultCampaign) async throws -> SchedulerStatus {
        try await pool.withConnection { connection in
            guard
                let row = try await connection.query(
                    "SELECT campaign, paused, updated_at, updated_by FROM marketing_scheduler_state WHERE campaign = \(campaign)"
                ).first
            else { return SchedulerStatus(campaign: campaign, paused: false, updatedAt: nil, updatedBy: nil) }
            return try SchedulerControl.decode(row)
        }
    }

    private func set(campaign: String, paused: Bool, by actor: String) async throws -> SchedulerStatus {
        let actor = String(actor.unicodeScalars.filter { $0 != "\0" }.prefix(200).map(Character.init))
        return try await pool.withConnection { connection in
            let result = try await connection.query(
                """
                INSERT INTO marketing_scheduler_state AS s (campaign, paused, updated_at, updated_by)
                VALUES (\(campaign), \(paused), now(), \(actor))
                ON CONFLICT (campaign) DO UPDATE SET paused = EXCLUDED.paused, updated_at = now(),
                    updated_by = EXCLUDED.updated_by
                RETURNING campaign, paused, updated_at, updated_by
                """)
            guard let row = result.first else { throw PGError(kind: .usage, message: "upsert returned no row") }
            return try SchedulerControl.decode(row)
        }
    }

    static func decode(_ row: PGRow) throws -> SchedulerStatus {
        SchedulerStatus(
            campaign: try row.decode("campaign"), paused: try row.decode("paused"),
            updatedAt: try row.decode("updated_at"), updatedBy: try row.decode("updated_by"))
    }
}
