import Foundation
import JWTKit

/// The JWT payload as it travels; JWTKit stays an implementation detail behind `SessionClaims`.
struct SessionToken: JWTPayload, Equatable {
    var sub: String
    var tg: Int64
    var jti: String
    var iat: Int64
    var exp: Int64

    init(_ claims: SessionClaims) {
        self.sub = String(claims.userID)
        self.tg = claims.telegramID
        self.jti = claims.jti.uuidString.lowercased()
        self.iat = claims.issuedAt
        self.exp = claims.expiresAt
    }

    /// The typed claims, or nil when a claim has the wrong shape.
    var claims: SessionClaims? {
        guard let userID = Int64(sub), userID > 0, tg > 0, let jti = UUID(uuidString: jti), exp > iat else {
            return nil
        }
        return SessionClaims(userID: userID, telegramID: tg, jti: jti, issuedAt: iat, expiresAt: exp)
    }

    /// Shape only: expiry is checked by `SessionService` against its injectable clock.
    func verify(using algorithm: some JWTAlgorithm) async throws {
        guard claims != nil else {
            throw JWTError.claimVerificationFailure(failedClaim: nil, reason: "malformed session claims")
        }
    }
}
