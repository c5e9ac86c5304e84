import Foundation
import PGClient

/// `miniapp_sessions`: one row per issued token. Functions take a connection so they join the caller's transaction.
enum SessionStore {
    /// The `user_agent` CHECK allows this many characters; longer ones are cut, not refused.
    static let maxUserAgentLength = 512

    /// What verification needs from a session row.
    struct Row: Sendable {
        let userID: Int64
        let expiresAt: Date
        let revoked: Bool
    }

    static func insert(_ connection: PGConnection, claims: SessionClaims, userAgent: String?) async throws {
        let agent = userAgent.map(truncated)
        let created = Date(timeIntervalSince1970: TimeInterval(claims.issuedAt))
        // Nothing to read back: inside a transaction it goes out with the COMMIT (the exchange costs two round trips).
        try await connection.executeLater(
            """
            INSERT INTO miniapp_sessions (jti, user_id, created_at, expires_at, user_agent)
            VALUES (\(claims.jti), \(claims.userID), \(created), \(claims.expiresAtDate), \(agent))
            """)
    }

    static func find(_ connection: PGConnection, jti: UUID) async throws -> Row? {
        guard
            let row = try await connection.query(
                "SELECT user_id, expires_at, revoked_at IS NOT NULL AS revoked FROM miniapp_sessions WHERE jti = \(jti)"
            ).first
        else { return nil }
        return Row(
            userID: try row.decode("user_id"), expiresAt: try row.decode("expires_at"),
            revoked: try row.decode("revoked"))
    }

    /// Marks the session revoked; false when it does not exist or was revoked already.
    static func revoke(_ connection: PGConnection, jti: UUID) async throws -> Bool {
        try await connection.execute(
            "UPDATE miniapp_sessions SET revoked_at = now() WHERE jti = \(jti) AND revoked_at IS NULL") > 0
    }

    /// Revokes every live session of a user; returns how many.
    static func revokeAll(_ connection: PGConnection, userID: Int64) async throws -> [UUID] {
        try await connection.query(
            """
            UPDATE miniapp_sessions SET revoked_at = now()
            WHERE user_id = \(userID) AND revoked_at IS NULL AND expires_at > now()
            RETURNING jti
            """
        ).map { try $0.decode("jti", as: UUID.self) }
    }

    /// Cuts to the CHECK's length in Unicode scalars (what PostgreSQL's `length()` counts for UTF-8 text).
    static func truncated(_ agent: String) -> String {
        let scalars = agent.unicodeScalars
        guard scalars.count > maxUserAgentLength else { return agent }
        var out = String.UnicodeScalarView()
        out.append(contentsOf: scalars.prefix(maxUserAgentLength))
        return String(out)
    }
}
