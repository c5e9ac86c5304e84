/// Why an access token was refused. Every case means 401 to the client.
public enum SessionError: Error, Sendable, Equatable {
    /// Not a JWT, a bad signature (unknown or removed key), or claims of the wrong shape.
    case invalidToken
    /// `exp` has passed (or the session row has expired).
    case expired
    /// The session was revoked.
    case revoked
    /// No session row for the token's `jti` (or it belongs to another user).
    case unknownSession
}

/// A session configuration that cannot work; the message names the setting, never its value.
public enum SessionConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The signing key is shorter than HS256 needs.
    case currentKeyTooShort(minimumBytes: Int)
    /// The previous (rotation) key is shorter than HS256 needs.
    case previousKeyTooShort(minimumBytes: Int)
    /// The token lifetime is not positive.
    case nonPositiveTTL

    public var description: String {
        switch self {
        case .currentKeyTooShort(let minimum): "JWT_SECRET must be at least \(minimum) bytes"
        case .previousKeyTooShort(let minimum): "the previous JWT secret must be at least \(minimum) bytes"
        case .nonPositiveTTL: "JWT_TTL_SECONDS must be positive"
        }
    }
}
