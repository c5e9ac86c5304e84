/// A field of a click, named in validation errors.
public enum ClickField: String, Sendable, Equatable {
    case ctaType = "cta_type"
    case channel
    case utmSource = "utm_source"
    case utmCampaign = "utm_campaign"
    case metadata
}

/// Why a click operation failed. The App maps `.notFound` to 404 and every other case to 400; the `description`
/// is safe to show to the client (it never echoes input).
public enum ClickError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A field breaks a limit (same limits as the table's CHECK constraints).
    case invalid(field: ClickField, reason: String)
    /// No click with that id belongs to the caller (another user's click is not found too, never "forbidden").
    case notFound
    /// `limit` outside 1...100.
    case invalidLimit
    /// A cursor this server did not issue.
    case invalidCursor
    /// The user id does not exist (the caller's session names a deleted user).
    case unknownUser

    public var description: String {
        switch self {
        case .invalid(let field, let reason): "\(field.rawValue) \(reason)"
        case .notFound: "click not found"
        case .invalidLimit: "limit must be between 1 and 100"
        case .invalidCursor: "cursor is not valid"
        case .unknownUser: "user not found"
        }
    }
}
