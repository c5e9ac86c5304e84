import Foundation

/// The `user` object of initData, decoded from the exact JSON Telegram signed. Unknown keys are ignored, so a new
/// Telegram field never breaks logins.
public struct WebAppUser: Sendable, Equatable, Decodable {
    public let id: Int64
    public let firstName: String?
    public let lastName: String?
    public let username: String?
    public let languageCode: String?
    public let isPremium: Bool?
    public let isBot: Bool?
    public let allowsWriteToPM: Bool?
    public let photoURL: String?

    public init(
        id: Int64, firstName: String? = nil, lastName: String? = nil, username: String? = nil,
        languageCode: String? = nil, isPremium: Bool? = nil, isBot: Bool? = nil, allowsWriteToPM: Bool? = nil,
        photoURL: String? = nil
    ) {
        self.id = id
        self.firstName = firstName
        self.lastName = lastName
        self.username = username
        self.languageCode = languageCode
        self.isPremium = isPremium
        self.isBot = isBot
        self.allowsWriteToPM = allowsWriteToPM
        self.photoURL = photoURL
    }

    enum CodingKeys: String, CodingKey {
        case id
        case firstName = "first_name"
        case lastName = "last_name"
        case username
        case languageCode = "language_code"
        case isPremium = "is_premium"
        case isBot = "is_bot"
        case allowsWriteToPM = "allows_write_to_pm"
        case photoURL = "photo_url"
    }

    /// Decodes the `user` value; anything but a JSON object with an integer `id` is `InitDataError.malformedUser`.
    static func decode(json: String) throws(InitDataError) -> WebAppUser {
        do {
            return try JSONDecoder().decode(WebAppUser.self, from: Data(json.utf8))
        } catch {
            throw .malformedUser
        }
    }
}
