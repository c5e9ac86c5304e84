import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import PGClient
import TestSupport
import Testing

@testable import App

/// Rotating `JWT_SECRET` over HTTP, as docs/operations.md tells operators to do it: deploy with the new secret in
/// `JWT_SECRET` and the old one in `JWT_PREVIOUS_SECRET` (the window), then, one `JWT_TTL_SECONDS` later, deploy
/// again without `JWT_PREVIOUS_SECRET` (the window closes). The window has no end of its own: the old key is accepted
/// exactly as long as a running server has it configured. Each "deployment" here is the real application built from
/// that environment over one shared database, like a restart of `telebot serve`.
@Suite struct JWTRotationTests {
    static let oldSecret = "rotation-old-jwt-secret-0123456789abcdefghijkl"
    static let newSecret = "rotation-new-jwt-secret-ZYXWVUTSRQPONMLKJIHGFE"
    static let otherSecret = "rotation-unrelated-jwt-secret-000111222333444"
    static let botToken = "123456:rotation-test-bot-token"

    /// A server built from `JWT_SECRET` / `JWT_PREVIOUS_SECRET` over `pool`.
    struct Deployment: Sendable {
        let client: any TestClientProtocol

        /// Exchanges fresh initData for an access token.
        func signIn(telegramID: Int64) async throws -> String {
            let initData = MiniAppInitData.make(telegramID: telegramID, token: JWTRotationTests.botToken)
            let response = try await client.execute(
                uri: "/api/v1/miniapp/auth", method: .post, headers: [.authorization: "tma \(initData)"])
            guard response.status == .ok, let token = response.json?["access_token"] as? String else {
                throw HarnessFailure("sign-in answered \(response.status): \(response.text)")
            }
            return token
        }

        /// `GET /api/v1/me` with the token.
        func me(_ token: String) async throws -> TestResponse {
            try await client.execute(uri: "/api/v1/me", method: .get, headers: [.authorization: "Bearer \(token)"])
        }
    }

    /// Runs `body` against the application configured with `secret` (and `previous`), on `pool`.
    static func deploy(
        pool: PGPool, secret: String, previous: String? = nil,
        _ body: @escaping @Sendable (Deployment) async throws -> Void
    ) async throws {
        try await withDeployment(pool: pool, secret: secret, previous: previous, body)
    }

    /// Signs a user in on the deployment configured with `secret` (and `previous`), checks that the token works
    /// there, and returns it.
    static func issueToken(
        pool: PGPool, secret: String, previous: String? = nil, telegramID: Int64
    ) async throws -> String {
        try await withDeployment(pool: pool, secret: secret, previous: previous) { deployment in
            let token = try await deployment.signIn(telegramID: telegramID)
            let response = try await deployment.me(token)
            #expect(response.status == .ok, "\(response.text)")
            return token
        }
    }

    /// Builds the application as `serve` does from this environment, over `pool`, and runs `body` against it.
    static func withDeployment<T: Sendable>(
        pool: PGPool, secret: String, previous: String?, _ body: @escaping @Sendable (Deployment) async throws -> T
    ) async throws -> T {
        var overrides = ["JWT_SECRET": secret, "TELEGRAM_BOT_TOKEN": botToken, "INITDATA_MAX_AGE_SECONDS": "3600"]
        if let previous { overrides["JWT_PREVIOUS_SECRET"] = previous }
        let config = try AppTestSupport.config(overrides)
        let metrics = AppMetrics()
        var dependencies = AppDependencies(
            pool: pool, httpClient: .shared, logger: AppTestSupport.quietLogger, metrics: metrics)
        dependencies.miniApp = try await MiniAppServices(config: config, dependencies: dependencies)
        ContractMetrics.register(factory: metrics.factory, planCodes: ["premium_monthly"])
        let app = buildApplication(config: config, dependencies: dependencies, modules: AppModules.all)
        return try await app.test(.router) { client in try await body(Deployment(client: client)) }
    }

    /// Runs `body` with a fresh database holding the harness plans.
    static func withDatabase(_ body: @escaping @Sendable (PGPool) async throws -> Void) async throws {
        try await TestDatabase.with { _, pool in
            try await MiniAppAppHarness.insertPlans(pool)
            try await body(pool)
        }
    }

    /// Whether `token` is an HS256 JWT whose signature is HMAC-SHA256 with `secret` (checked without jwt-kit).
    static func isSigned(_ token: String, with secret: String) -> Bool {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3 else { return false }
        return parts[2] == base64URL(hmac(Data("\(parts[0]).\(parts[1])".utf8), secret))
    }

    static func hmac(_ data: Data, _ secret: String) -> Data {
        Data(HMAC<SHA256>.authenticationCode(for: data, using: SymmetricKey(data: Data(secret.utf8))))
    }

    static func base64URL(_ data: Data) -> String {
        data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// The token's claims re-signed with `secret` under a header without `kid` (as another issuer or an older
    /// server version would write it), so that only trying every configured key can verify it.
    static func resignedWithoutKeyID(_ token: String, secret: String) throws -> String {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        try #require(parts.count == 3)
        let header = base64URL(Data(#"{"alg":"HS256","typ":"JWT"}"#.utf8))
        let signingInput = "\(header).\(parts[1])"
        return "\(signingInput).\(base64URL(hmac(Data(signingInput.utf8), secret)))"
    }

    static func sessionRows(_ pool: PGPool, token: String) async throws -> Int {
        let jti = try #require(MiniAppAPITests.jwtSegment(token, 1)?["jti"] as? String)
        return try await pool.withConnection { connection in
            try await connection.query(
                "SELECT count(*) FROM miniapp_sessions WHERE jti = \(jti)::uuid AND revoked_at IS NULL"
            ).first?.decode(at: 0, as: Int.self) ?? -1
        }
    }

    // MARK: Tests

    @Test func anOldSecretTokenWorksWhileTheWindowIsOpenAndFailsWithA401OnceItCloses() async throws {
        try await Self.withDatabase { pool in
            let oldToken = try await Self.issueToken(pool: pool, secret: Self.oldSecret, telegramID: 7_700_001)
            #expect(Self.isSigned(oldToken, with: Self.oldSecret))

            // Window open: JWT_SECRET is the new key, JWT_PREVIOUS_SECRET the old one.
            try await Self.deploy(pool: pool, secret: Self.newSecret, previous: Self.oldSecret) { rotated in
                let response = try await rotated.me(oldToken)
                #expect(response.status == .ok, "\(response.text)")
                let user = try #require(response.json?["user"] as? [String: Any])
                #expect((user["telegram_id"] as? NSNumber)?.int64Value == 7_700_001)
            }

            // Window closed: JWT_PREVIOUS_SECRET removed and the server restarted.
            try await Self.deploy(pool: pool, secret: Self.newSecret) { after in
                let response = try await after.me(oldToken)
                let problem = MiniAppAPITests.expectProblem(response, .unauthorized)
                #expect(problem["detail"] as? String == "the access token is not valid")
                #expect(!response.text.contains(Self.oldSecret) && !response.text.contains(Self.newSecret))
            }
            // Refused for its key alone: the session row is still there and live.
            #expect(try await Self.sessionRows(pool, token: oldToken) == 1)
        }
    }

    @Test func duringTheWindowTokensAreIssuedWithTheNewSecretOnly() async throws {
        try await Self.withDatabase { pool in
            let newToken = try await Self.issueToken(
                pool: pool, secret: Self.newSecret, previous: Self.oldSecret, telegramID: 7_700_002)
            #expect(Self.isSigned(newToken, with: Self.newSecret))
            #expect(!Self.isSigned(newToken, with: Self.oldSecret))
            #expect(MiniAppAPITests.jwtSegment(newToken, 0)?["alg"] as? String == "HS256")

            // An instance not yet rotated (old key only) cannot read it: the new key really signed it.
            try await Self.deploy(pool: pool, secret: Self.oldSecret) { notRotated in
                let response = try await notRotated.me(newToken)
                MiniAppAPITests.expectProblem(response, .unauthorized)
            }
            // After the window closes, new-key tokens keep working.
            try await Self.deploy(pool: pool, secret: Self.newSecret) { after in
                let response = try await after.me(newToken)
                #expect(response.status == .ok, "\(response.text)")
            }
        }
    }

    @Test func aPreviousSecretOtherThanTheOldOneDoesNotOpenTheWindow() async throws {
        try await Self.withDatabase { pool in
            let oldToken = try await Self.issueToken(pool: pool, secret: Self.oldSecret, telegramID: 7_700_003)
            try await Self.deploy(pool: pool, secret: Self.newSecret, previous: Self.otherSecret) { rotated in
                let response = try await rotated.me(oldToken)
                MiniAppAPITests.expectProblem(response, .unauthorized)
            }
        }
    }

    @Test func aTokenWithoutKeyIDSignedWithThePreviousSecretFollowsTheSameWindow() async throws {
        try await Self.withDatabase { pool in
            let issued = try await Self.issueToken(pool: pool, secret: Self.oldSecret, telegramID: 7_700_004)
            let kidless = try Self.resignedWithoutKeyID(issued, secret: Self.oldSecret)
            #expect(MiniAppAPITests.jwtSegment(kidless, 0)?["kid"] == nil)
            try await Self.deploy(pool: pool, secret: Self.newSecret, previous: Self.oldSecret) { rotated in
                let response = try await rotated.me(kidless)
                #expect(response.status == .ok, "\(response.text)")
            }
            try await Self.deploy(pool: pool, secret: Self.newSecret) { after in
                let response = try await after.me(kidless)
                MiniAppAPITests.expectProblem(response, .unauthorized)
            }
        }
    }

    @Test func aShortPreviousSecretIsAConfigurationErrorNamingTheVariable() throws {
        #expect {
            _ = try AppTestSupport.config(["JWT_SECRET": Self.newSecret, "JWT_PREVIOUS_SECRET": "too-short"])
        } throws: { error in
            guard let invalid = error as? AppConfig.Invalid else { return false }
            return invalid.variable == "JWT_PREVIOUS_SECRET" && !invalid.description.contains("too-short")
        }
    }
}
