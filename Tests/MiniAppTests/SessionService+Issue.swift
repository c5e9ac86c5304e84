import Foundation
import PGClient

@testable import MiniApp

/// A session made the way the auth exchange makes one (claims, row, signed token), for tests that need a token
/// without going through initData.
struct IssuedSession: Sendable, Equatable {
    let token: String
    let expiresIn: Int
    let claims: SessionClaims

    var jti: UUID { claims.jti }
}

extension SessionService {
    func issue(userID: Int64, telegramID: Int64, userAgent: String?, now: Date = Date()) async throws -> IssuedSession {
        let claims = makeClaims(userID: userID, telegramID: telegramID, now: now)
        try await pool.withConnection { connection in
            try await SessionService.record(connection, claims: claims, userAgent: userAgent)
        }
        return IssuedSession(token: try await sign(claims), expiresIn: configuration.ttlSeconds, claims: claims)
    }
}
