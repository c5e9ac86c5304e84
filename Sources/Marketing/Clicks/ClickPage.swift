/// One page of a user's clicks, newest first. `nextCursor` is nil on the last page.
public struct ClickPage: Sendable, Equatable, Codable {
    public var clicks: [Click]
    public var nextCursor: String?

    public init(clicks: [Click], nextCursor: String?) {
        self.clicks = clicks
        self.nextCursor = nextCursor
    }

    enum CodingKeys: String, CodingKey {
        case clicks
        case nextCursor = "next_cursor"
    }

    /// `next_cursor` encodes as `null` on the last page.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(clicks, forKey: .clicks)
        try container.encode(nextCursor, forKey: .nextCursor)
    }
}
