import Foundation
import Support

/// A logged click, as `GET /api/v1/marketing/clicks/{id}` shows it. Encodes with the API's snake_case keys
/// (dates follow the encoder's date strategy: the App uses RFC 3339 UTC).
public struct Click: Sendable, Equatable, Codable {
    public var id: Int64
    public var userID: Int64
    public var ctaType: String
    public var channel: String?
    public var utmSource: String?
    public var utmCampaign: String?
    public var metadata: [String: JSONValue]
    public var createdAt: Date
    public var updatedAt: Date

    public init(
        id: Int64, userID: Int64, ctaType: String, channel: String?, utmSource: String?, utmCampaign: String?,
        metadata: [String: JSONValue], createdAt: Date, updatedAt: Date
    ) {
        self.id = id
        self.userID = userID
        self.ctaType = ctaType
        self.channel = channel
        self.utmSource = utmSource
        self.utmCampaign = utmCampaign
        self.metadata = metadata
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    enum CodingKeys: String, CodingKey {
        case id
        case userID = "user_id"
        case ctaType = "cta_type"
        case channel
        case utmSource = "utm_source"
        case utmCampaign = "utm_campaign"
        case metadata
        case createdAt = "created_at"
        case updatedAt = "updated_at"
    }

    /// Absent optional fields encode as `null` (not omitted), as API clients expect every key.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(userID, forKey: .userID)
        try container.encode(ctaType, forKey: .ctaType)
        try container.encode(channel, forKey: .channel)
        try container.encode(utmSource, forKey: .utmSource)
        try container.encode(utmCampaign, forKey: .utmCampaign)
        try container.encode(metadata, forKey: .metadata)
        try container.encode(createdAt, forKey: .createdAt)
        try container.encode(updatedAt, forKey: .updatedAt)
    }
}
