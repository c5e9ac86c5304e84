import Foundation
import Logging
import PGClient
import Support
import TestSupport
import Testing

@testable import MiniApp

@Suite struct SessionServiceTests {
    static let keyA = "session-key-A-0123456789abcdef0123456789"
    static let keyB = "session-key-B-0123456789abcdef0123456789"
    static let keyC = "session-key-C-0123456789abcdef0123456789"

    static func user(_ pool: PGPool, telegramID: Int64 = 42) async throws -> MiniAppUser {
        try await pool.transaction { tx in
            try await MiniAppUserStore.upsert(tx, profile: WebAppUser(id: telegramID, firstName: "T", username: "t"))
        }
    }

    static func service(
        _ pool: PGPool, _ current: String = keyA, previous: String? = nil, ttl: Int = 900,
        cache: Duration = .zero
    ) async throws -> SessionService {
        await SessionService(
            pool: pool,
            configuration: try SessionConfiguration(
                currentSecret: current, previousSecret: previous, ttlSeconds: ttl, validityCacheTTL: cache))
    }

    /// The JSON of a JWT segment.
    static func segment(_ token: String, _ index: Int) throws -> [String: Any] {
        let part = String(token.split(separator: ".")[index])
        let bytes = try #require(Base64URL.decode(part))
        return try #require(JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
    }

    @Test func theTokenCarriesTheContractClaims() async throws {
        try await TestDatabase.with { _, pool in
            let user = try await Self.user(pool)
            let sessions = try await Self.service(pool, ttl: 900)
            let now = Date()
            let issued = try await sessions.issue(userID: user.id, telegramID: 42, userAgent: "UA", now: now)
            #expect(issued.expiresIn == 900)
            #expect(issued.token.split(separator: ".").count == 3)
            let header = try Self.segment(issued.token, 0)
            #expect(header["alg"] as? String == "HS256")
            #expect(header["kid"] as? String == SessionService.keyID(Array(Self.keyA.utf8)).string)
            let payload = try Self.segment(issued.token, 1)
            #expect(payload["sub"] as? String == String(user.id))
            #expect((payload["tg"] as? NSNumber)?.int64Value == 42)
            #expect(payload["jti"] as? String == issued.jti.uuidString.lowercased())
            let iat = try #require((payload["iat"] as? NSNumber)?.int64Value)
            let exp = try #require((payload["exp"] as? NSNumber)?.int64Value)
            #expect(iat == Int64(now.timeIntervalSince1970))
            #expect(exp == iat + 900)
            #expect(Set(payload.keys) == ["sub", "tg", "jti", "iat", "exp"])

            let claims = try await sessions.verify(token: issued.token, now: now)
            #expect(claims == issued.claims)
            let row = try await pool.withConnection { connection in
                try await connection.query(
                    "SELECT user_id, user_agent, revoked_at IS NULL AS live, expires_at FROM miniapp_sessions WHERE jti = \(issued.jti)"
                ).first.map {
                    (
                        try $0.decode("user_id", as: Int64.self), try $0.decode("user_agent", as: String?.self),
                        try $0.decode("live", as: Bool.self), try $0.decode("expires_at", as: Date.self)
                    )
                }
            }
            let (userID, agent, live, expiresAt) = try #require(row)
            #expect(userID == user.id && agent == "UA" && live)
            #expect(Int64(expiresAt.timeIntervalSince1970) == exp)
        }
    }

    @Test func aRevokedSessionFailsVerification() async throws {
        try await TestDatabase.with { _, pool in
            let user = try await Self.user(pool)
            let sessions = try await Self.service(pool)
            let issued = try await sessions.issue(userID: user.id, telegramID: 42, userAgent: nil)
            _ = try await sessions.verify(token: issued.token)
            #expect(try await sessions.revoke(jti: issued.jti))
            await #expect(throws: SessionError.revoked) { try await sessions.verify(token: issued.token) }
            #expect(try await sessions.revoke(jti: issued.jti) == false)
            // Log out everywhere.
            let a = try await sessions.issue(userID: user.id, telegramID: 42, userAgent: nil)
            let b = try await sessions.issue(userID: user.id, telegramID: 42, userAgent: nil)
            #expect(try await sessions.revokeAll(userID: user.id) == 2)
            await #expect(throws: SessionError.revoked) { try await sessions.verify(token: a.token) }
            await #expect(throws: SessionError.revoked) { try await sessions.verify(token: b.token) }
        }
    }

    @Test func anExpiredTokenFailsVerification() async throws {
        try await TestDatabase.with { _, pool in
            let user = try await Self.user(pool)
            let sessions = try await Self.service(pool, ttl: 60)
            let issuedAt = Date()
            let issued = try await sessions.issue(userID: user.id, telegramID: 42, userAgent: nil, now: issuedAt)
            _ = try await sessions.verify(token: issued.token, now: issuedAt.addingTimeInterval(59))
            await #expect(throws: SessionError.expired) {
                try await sessions.verify(token: issued.token, now: issuedAt.addingTimeInterval(61))
            }
            // The row's expiry counts too (e.g. shortened by an operator).
            let fresh = try await sessions.issue(userID: user.id, telegramID: 42, userAgent: nil)
            try await pool.withConnection { connection in
                _ = try await connection.execute(
                    "UPDATE miniapp_sessions SET created_at = created_at - interval '1 hour', expires_at = created_at - interval '1 minute' WHERE jti = \(fresh.jti)"
                )
            }
            await #expect(throws: SessionError.expired) { try await sessions.verify(token: fresh.token) }
        }
    }

    @Test func thePreviousKeyVerifiesUntilItIsRemoved() async throws {
        try await TestDatabase.with { _, pool in
            let user = try await Self.user(pool)
            let beforeRotation = try await Self.service(pool, Self.keyA)
            let old = try await beforeRotation.issue(userID: user.id, telegramID: 42, userAgent: nil)

            let rotating = try await Self.service(pool, Self.keyB, previous: Self.keyA)
            #expect(try await rotating.verify(token: old.token).jti == old.jti)
            let new = try await rotating.issue(userID: user.id, telegramID: 42, userAgent: nil)
            #expect(try Self.segment(new.token, 0)["kid"] as? String == SessionService.keyID(Array(Self.keyB.utf8)).string)
            #expect(try await rotating.verify(token: new.token).jti == new.jti)
            // Signed only with the current key: the old configuration cannot read new tokens.
            await #expect(throws: SessionError.invalidToken) { try await beforeRotation.verify(token: new.token) }

            let afterRotation = try await Self.service(pool, Self.keyB)
            await #expect(throws: SessionError.invalidToken) { try await afterRotation.verify(token: old.token) }
            #expect(try await afterRotation.verify(token: new.token).jti == new.jti)
        }
    }

    @Test func aTokenSignedWithAnUnknownKeyOrTamperedFails() async throws {
        try await TestDatabase.with { _, pool in
            let user = try await Self.user(pool)
            let sessions = try await Self.service(pool, Self.keyA, previous: Self.keyB)
            let stranger = try await Self.service(pool, Self.keyC)
            let foreign = try await stranger.issue(userID: user.id, telegramID: 42, userAgent: nil)
            await #expect(throws: SessionError.invalidToken) { try await sessions.verify(token: foreign.token) }

            let issued = try await sessions.issue(userID: user.id, telegramID: 42, userAgent: nil)
            let parts = issued.token.split(separator: ".").map(String.init)
            // Another user's id in the payload, signature kept.
            var payload = try Self.segment(issued.token, 1)
            payload["sub"] = "999999"
            let forged = try JSONSerialization.data(withJSONObject: payload)
            let tampered = [parts[0], Self.base64URL(forged), parts[2]].joined(separator: ".")
            await #expect(throws: SessionError.invalidToken) { try await sessions.verify(token: tampered) }
            // alg "none" and garbage.
            let none = Self.base64URL(Data(#"{"alg":"none","typ":"JWT"}"#.utf8))
            await #expect(throws: SessionError.invalidToken) {
                try await sessions.verify(token: "\(none).\(parts[1]).")
            }
            for junk in ["", "a.b.c", "not a token", String(repeating: "x", count: 10_000)] {
                await #expect(throws: SessionError.invalidToken) { try await sessions.verify(token: junk) }
            }
        }
    }

    @Test func aSignedTokenWithoutASessionRowFails() async throws {
        try await TestDatabase.with { _, pool in
            let user = try await Self.user(pool)
            let sessions = try await Self.service(pool)
            let claims = sessions.makeClaims(userID: user.id, telegramID: 42)
            let token = try await sessions.sign(claims)
            await #expect(throws: SessionError.unknownSession) { try await sessions.verify(token: token) }
        }
    }

    @Test func keysShorterThan32BytesAreRefusedBeforeJWTKitSeesThem() {
        #expect(throws: SessionConfigurationError.currentKeyTooShort(minimumBytes: 32)) {
            try SessionConfiguration(currentSecret: String(repeating: "k", count: 31))
        }
        #expect(throws: SessionConfigurationError.previousKeyTooShort(minimumBytes: 32)) {
            try SessionConfiguration(currentSecret: Self.keyA, previousSecret: "short")
        }
        #expect(throws: SessionConfigurationError.nonPositiveTTL) {
            try SessionConfiguration(currentSecret: Self.keyA, ttlSeconds: 0)
        }
        let configuration = try? SessionConfiguration(currentSecret: Self.keyA, previousSecret: Self.keyB)
        #expect(configuration.map { "\($0)".contains("session-key") } == false)
    }

    @Test func withAValidityCacheALocalRevocationIsStillImmediate() async throws {
        try await TestDatabase.with { _, pool in
            let user = try await Self.user(pool)
            // The TTL is long enough that a busy CI machine still reads the cached entry right after the remote revoke.
            let cached = try await Self.service(pool, cache: .seconds(3))
            let elsewhere = try await Self.service(pool)
            let local = try await cached.issue(userID: user.id, telegramID: 42, userAgent: nil)
            _ = try await cached.verify(token: local.token)
            try await cached.revoke(jti: local.jti)
            await #expect(throws: SessionError.revoked) { try await cached.verify(token: local.token) }

            // Revoked by another instance: visible once the cache entry ages out (here 3 s).
            let remote = try await cached.issue(userID: user.id, telegramID: 42, userAgent: nil)
            _ = try await cached.verify(token: remote.token)
            try await elsewhere.revoke(jti: remote.jti)
            _ = try await cached.verify(token: remote.token)
            try await Task.sleep(for: .milliseconds(3_100))
            await #expect(throws: SessionError.revoked) { try await cached.verify(token: remote.token) }
        }
    }

    static func base64URL(_ data: Data) -> String {
        data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}
