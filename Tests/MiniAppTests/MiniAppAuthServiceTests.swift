import Foundation
import PGClient
import TestSupport
import Testing

@testable import MiniApp

@Suite struct MiniAppAuthServiceTests {
    static let token = "123456:TEST-TOKEN-abc"

    static func service(
        _ pool: PGPool, ipLimiter: TokenBucketRateLimiter<String>? = nil,
        userLimiter: TokenBucketRateLimiter<Int64>? = nil
    ) async throws -> MiniAppAuthService {
        MiniAppAuthService(
            pool: pool,
            validator: try InitDataValidator(configuration: .init(botToken: token)),
            sessions: try await SessionServiceTests.service(pool),
            ipLimiter: ipLimiter, userLimiter: userLimiter)
    }

    static func count(_ pool: PGPool, _ query: PGQuery) async throws -> Int64 {
        try await pool.withConnection { try await $0.query(query).first?.decode("n", as: Int64.self) ?? -1 }
    }

    @Test func anExchangeCreatesTheUserAndAVerifiableSession() async throws {
        try await TestDatabase.with { _, pool in
            let auth = try await Self.service(pool)
            let initData = InitDataSigner.initData(telegramID: 7001, username: "alice", firstName: "Alice", token: Self.token)
            let result = try await auth.exchange(initData: initData, userAgent: "Telegram/1.0")
            #expect(result.tokenType == "Bearer")
            #expect(result.expiresIn == 900)
            #expect(result.user.telegramID == 7001)
            #expect(result.user.username == "alice")
            #expect(result.user.firstName == "Alice")
            let claims = try await auth.sessions.verify(token: result.accessToken)
            #expect(claims.userID == result.user.id)
            #expect(claims.telegramID == 7001)

            // The body is exactly the contract's shape.
            let body = try JSONSerialization.jsonObject(with: JSONEncoder().encode(result)) as? [String: Any]
            #expect(Set(body?.keys ?? [:].keys) == ["access_token", "token_type", "expires_in", "user"])
            let user = body?["user"] as? [String: Any]
            #expect(Set(user?.keys ?? [:].keys) == ["id", "telegram_id", "username", "first_name"])
            #expect((user?["telegram_id"] as? NSNumber)?.int64Value == 7001)

            // A later login refreshes the profile and keeps the id.
            let renamed = InitDataSigner.initData(telegramID: 7001, username: nil, firstName: "Al", token: Self.token)
            let again = try await auth.exchange(initData: renamed, userAgent: nil)
            #expect(again.user.id == result.user.id)
            #expect(again.user.username == nil)
            #expect(again.user.firstName == "Al")
            #expect(try await Self.count(pool, "SELECT count(*) AS n FROM users WHERE telegram_user_id = 7001") == 1)
            #expect(try await Self.count(pool, "SELECT count(*) AS n FROM miniapp_sessions") == 2)
        }
    }

    @Test func exchangesCountSessionsAndRecordTheirLatency() async throws {
        try await TestDatabase.with { _, pool in
            let metrics = RecordingMetrics()
            let auth = MiniAppAuthService(
                pool: pool,
                validator: try InitDataValidator(configuration: .init(botToken: Self.token)),
                sessions: try await SessionServiceTests.service(pool),
                ipLimiter: nil, userLimiter: nil, metricsFactory: metrics)
            let initData = InitDataSigner.initData(telegramID: 5005, token: Self.token)
            _ = try await auth.exchange(initData: initData, userAgent: nil)
            _ = try await auth.exchange(initData: initData, userAgent: nil)
            _ = try? await auth.exchange(initData: "bad", userAgent: nil)
            #expect(metrics.counter("miniapp_sessions_total") == 2)
            let timings = metrics.timerValues("miniapp_exchange_latency_seconds")
            #expect(timings.count == 3)
            #expect(timings.allSatisfy { $0 > 0 && $0 < 10_000_000_000 })
        }
    }

    @Test func twentyConcurrentFirstLoginsCreateExactlyOneUser() async throws {
        try await TestDatabase.with(poolSize: 10) { _, pool in
            let auth = try await Self.service(pool)
            let initData = InitDataSigner.initData(telegramID: 8002, token: Self.token)
            let ids = try await withThrowingTaskGroup(of: Int64.self) { group in
                for _ in 0..<20 {
                    group.addTask { try await auth.exchange(initData: initData, userAgent: "UA").user.id }
                }
                var ids: [Int64] = []
                for try await id in group { ids.append(id) }
                return ids
            }
            #expect(ids.count == 20)
            #expect(Set(ids).count == 1)
            #expect(try await Self.count(pool, "SELECT count(*) AS n FROM users WHERE telegram_user_id = 8002") == 1)
            #expect(try await Self.count(pool, "SELECT count(*) AS n FROM users") == 1)
            #expect(try await Self.count(pool, "SELECT count(DISTINCT jti) AS n FROM miniapp_sessions") == 20)
        }
    }

    @Test func invalidInitDataIsRefusedAndWritesNothing() async throws {
        try await TestDatabase.with { _, pool in
            let auth = try await Self.service(pool)
            let good = InitDataSigner.initData(telegramID: 9003, token: Self.token)
            let tampered = good.replacingOccurrences(of: "9003", with: "9004")
            await #expect(throws: MiniAppAuthError.invalidInitData(.badHash)) {
                try await auth.exchange(initData: tampered, userAgent: nil)
            }
            let otherBot = InitDataSigner.initData(telegramID: 9003, token: "654321:OTHER-TOKEN-xyz")
            await #expect(throws: MiniAppAuthError.invalidInitData(.badHash)) {
                try await auth.exchange(initData: otherBot, userAgent: nil)
            }
            let old = InitDataSigner.initData(telegramID: 9003, token: Self.token, authDate: Date().addingTimeInterval(-90_000))
            await #expect(throws: MiniAppAuthError.invalidInitData(.expired)) {
                try await auth.exchange(initData: old, userAgent: nil)
            }
            await #expect(throws: MiniAppAuthError.invalidInitData(.empty)) {
                try await auth.exchange(initData: "", userAgent: nil)
            }
            let noUser = InitDataSigner.sign([("auth_date", "\(Int64(Date().timeIntervalSince1970))")], token: Self.token)
            await #expect(throws: MiniAppAuthError.invalidInitData(.missingUser)) {
                try await auth.exchange(initData: noUser, userAgent: nil)
            }
            #expect(try await Self.count(pool, "SELECT count(*) AS n FROM users") == 0)
            #expect(try await Self.count(pool, "SELECT count(*) AS n FROM miniapp_sessions") == 0)
        }
    }

    @Test func exchangesAreRateLimitedPerTelegramUserAndPerIP() async throws {
        try await TestDatabase.with { _, pool in
            let auth = try await Self.service(
                pool, ipLimiter: TokenBucketRateLimiter(capacity: 3, refillPerSecond: 0.01),
                userLimiter: TokenBucketRateLimiter(capacity: 2, refillPerSecond: 0.01))
            let alice = InitDataSigner.initData(telegramID: 1111, token: Self.token)
            _ = try await auth.exchange(initData: alice, userAgent: nil, clientIP: "10.0.0.1")
            _ = try await auth.exchange(initData: alice, userAgent: nil, clientIP: "10.0.0.2")
            do {
                _ = try await auth.exchange(initData: alice, userAgent: nil, clientIP: "10.0.0.3")
                Issue.record("the third exchange for one user should be limited")
            } catch let MiniAppAuthError.rateLimited(retryAfter) {
                #expect(retryAfter >= 1 && retryAfter <= 100)
            }
            // The per-IP bucket counts refused and invalid attempts too (it runs before validation).
            for _ in 0..<3 {
                _ = try? await auth.exchange(initData: "junk", userAgent: nil, clientIP: "10.9.9.9")
            }
            let bob = InitDataSigner.initData(telegramID: 2222, token: Self.token)
            await #expect(throws: MiniAppAuthError.self) {
                try await auth.exchange(initData: bob, userAgent: nil, clientIP: "10.9.9.9")
            }
            _ = try await auth.exchange(initData: bob, userAgent: nil, clientIP: "10.0.0.4")
        }
    }
}
