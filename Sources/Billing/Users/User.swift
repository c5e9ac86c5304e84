/// A user known through Telegram.
public struct User: Sendable, Codable, Equatable {
    public var id: Int64
    public var telegramID: Int64
    public var username: String?
    public var firstName: String?
    public var lastName: String?
    public var languageCode: String?
    public var isPremium: Bool

    public init(
        id: Int64, telegramID: Int64, username: String?, firstName: String?, lastName: String? = nil,
        languageCode: String? = nil, isPremium: Bool = false
    ) {
        self.id = id
        self.telegramID = telegramID
        self.username = username
        self.firstName = firstName
        self.lastName = lastName
        self.languageCode = languageCode
        self.isPremium = isPremium
    }
}

/// What Telegram tells us about a user (bot updates, Mini App initData).
public struct TelegramProfile: Sendable, Equatable {
    public var telegramID: Int64
    public var username: String?
    public var firstName: String?
    public var lastName: String?
    public var languageCode: String?
    public var isPremium: Bool?

    public init(
        telegramID: Int64, username: String? = nil, firstName: String? = nil, lastName: String? = nil,
        languageCode: String? = nil, isPremium: Bool? = nil
    ) {
        self.telegramID = telegramID
        self.username = username
        self.firstName = firstName
        self.lastName = lastName
        self.languageCode = languageCode
        self.isPremium = isPremium
    }
}
