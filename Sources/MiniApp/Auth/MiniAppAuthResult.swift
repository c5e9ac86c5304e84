/// The body of a successful `POST /api/v1/miniapp/auth` (contract: `access_token`, `token_type` "Bearer",
/// `expires_in`, `user` {`id`, `telegram_id`, `username`, `first_name`}). Encodes to exactly that JSON.
public struct MiniAppAuthResult: Sendable, Equatable, Encodable {
    public let accessToken: String
    public let tokenType: String
    /// Seconds until the token expires.
    public let expiresIn: Int
    public let user: MiniAppUser
    /// The session behind the token (not part of the body).
    public let claims: SessionClaims

    public init(accessToken: String, expiresIn: Int, user: MiniAppUser, claims: SessionClaims) {
        self.accessToken = accessToken
        self.tokenType = "Bearer"
        self.expiresIn = expiresIn
        self.user = user
        self.claims = claims
    }

    enum CodingKeys: String, CodingKey {
        case accessToken = "access_token"
        case tokenType = "token_type"
        case expiresIn = "expires_in"
        case user
    }
}

/// Why an exchange was refused.
public enum MiniAppAuthError: Error, Sendable, Equatable {
    /// Invalid, tampered, expired or missing initData (401).
    case invalidInitData(InitDataError)
    /// Too many exchanges from this IP or for this Telegram user (429 with `Retry-After`).
    case rateLimited(retryAfterSeconds: Int)
}
