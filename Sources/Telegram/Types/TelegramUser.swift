/// A Telegram user or bot (`User`).
public struct TelegramUser: Codable, Sendable, Equatable {
    /// Telegram's user id.
    public var id: Int64
    public var isBot: Bool
    public var firstName: String
    public var lastName: String?
    public var username: String?
    public var languageCode: String?
    public var isPremium: Bool?

    public init(
        id: Int64,
        isBot: Bool = false,
        firstName: String,
        lastName: String? = nil,
        username: String? = nil,
        languageCode: String? = nil,
        isPremium: Bool? = nil
    ) {
        self.id = id
        self.isBot = isBot
        self.firstName = firstName
        self.lastName = lastName
        self.username = username
        self.languageCode = languageCode
        self.isPremium = isPremium
    }

    enum CodingKeys: String, CodingKey {
        case id
        case isBot = "is_bot"
        case firstName = "first_name"
        case lastName = "last_name"
        case username
        case languageCode = "language_code"
        case isPremium = "is_premium"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decode(Int64.self, forKey: .id)
        // Required by the API, but a missing one should not make us drop a payment update.
        isBot = try container.decodeIfPresent(Bool.self, forKey: .isBot) ?? false
        firstName = try container.decodeIfPresent(String.self, forKey: .firstName) ?? ""
        lastName = try container.decodeIfPresent(String.self, forKey: .lastName)
        username = try container.decodeIfPresent(String.self, forKey: .username)
        languageCode = try container.decodeIfPresent(String.self, forKey: .languageCode)
        isPremium = try container.decodeIfPresent(Bool.self, forKey: .isPremium)
    }
}
