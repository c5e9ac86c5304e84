import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import MiniApp
import NIOCore
import TestSupport
import Testing

@testable import App

/// The Mini App HTTP API in process (`app.test(.router)`), as docs/api.md fixes it: the initData exchange, bearer
/// sessions, the billing reads, checkout with `Idempotency-Key`, the portal, and the page.
@Suite struct MiniAppAPITests {
    static let telegramID: Int64 = 9_100_001

    // MARK: Helpers

    /// Checks a problem+json answer with `status`; returns its body.
    @discardableResult
    static func expectProblem(
        _ response: TestResponse, _ status: HTTPResponse.Status, sourceLocation: SourceLocation = #_sourceLocation
    ) -> [String: Any] {
        #expect(response.status == status, "\(response.text)", sourceLocation: sourceLocation)
        #expect(response.headers[.contentType] == "application/problem+json", sourceLocation: sourceLocation)
        let body = response.json ?? [:]
        #expect(body["status"] as? Int == Int(status.code), sourceLocation: sourceLocation)
        #expect(body["title"] is String, sourceLocation: sourceLocation)
        #expect(body["detail"] is String, sourceLocation: sourceLocation)
        #expect(body["type"] is String, sourceLocation: sourceLocation)
        return body
    }

    static func keys(_ object: Any?) -> Set<String> {
        Set((object as? [String: Any])?.keys.map { $0 } ?? [])
    }

    /// The decoded JSON of a JWT segment.
    static func jwtSegment(_ token: String, _ index: Int) -> [String: Any]? {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3 else { return nil }
        var base64 = parts[index].replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        guard let data = Data(base64Encoded: base64) else { return nil }
        return (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
    }

    static func isRFC3339UTC(_ value: Any?) -> Bool {
        guard let text = value as? String, text.hasSuffix("Z") else { return false }
        return (try? Date(text, strategy: .iso8601)) != nil
    }

    static func auth(_ harness: MiniAppAppHarness, header: String? = nil, json: String? = nil) async throws -> TestResponse {
        var headers: HTTPFields = [:]
        if let header { headers[.authorization] = header }
        if json != nil { headers[.contentType] = "application/json" }
        return try await harness.client.execute(
            uri: "/api/v1/miniapp/auth", method: .post, headers: headers, body: json.map { ByteBuffer(string: $0) })
    }

    // MARK: Auth exchange

    @Test func initDataInTheTmaHeaderSignsInWithTheContractShape() async throws {
        try await MiniAppAppHarness.with { harness in
            let initData = MiniAppInitData.make(
                telegramID: Self.telegramID, username: "ada_l", firstName: "Ada", token: harness.botToken)
            let response = try await Self.auth(harness, header: "tma \(initData)")
            #expect(response.status == .ok, "\(response.text)")
            let body = try #require(response.json)
            #expect(Self.keys(body) == ["access_token", "token_type", "expires_in", "user"])
            #expect(body["token_type"] as? String == "Bearer")
            #expect(body["expires_in"] as? Int == MiniAppAppHarness.jwtTTL)
            #expect((body["access_token"] as? String)?.split(separator: ".").count == 3)
            let user = try #require(body["user"] as? [String: Any])
            #expect(Self.keys(user) == ["id", "telegram_id", "username", "first_name"])
            #expect((user["telegram_id"] as? NSNumber)?.int64Value == Self.telegramID)
            #expect(user["username"] as? String == "ada_l")
            #expect(user["first_name"] as? String == "Ada")
            let id = try #require((user["id"] as? NSNumber)?.int64Value)
            #expect(try await harness.count("SELECT count(*) FROM users WHERE id = \(id) AND telegram_user_id = \(Self.telegramID)") == 1)
            #expect(try harness.metric("miniapp_sessions_total") == 1)
            // The exchange is timed into the contract's buckets.
            let text = try PrometheusText(harness.metrics.registry.emitToString())
            #expect(text.value("miniapp_exchange_latency_seconds_count") == 1)
            let buckets = Set(text.samples.filter { $0.name == "miniapp_exchange_latency_seconds_bucket" }.compactMap { $0.labels["le"] })
            #expect(
                buckets == ["0.01", "0.05", "0.1", "0.5", "1.0", "+Inf"] || buckets == ["0.01", "0.05", "0.1", "0.5", "1", "+Inf"],
                "\(buckets)")
        }
    }

    @Test func initDataInAJSONBodySignsInAndRefreshesTheUser() async throws {
        try await MiniAppAppHarness.with { harness in
            let first = MiniAppInitData.make(telegramID: Self.telegramID, username: "old_name", token: harness.botToken)
            let one = try await Self.auth(harness, json: #"{"init_data":"\#(first)"}"#)
            #expect(one.status == .ok, "\(one.text)")
            let second = MiniAppInitData.make(
                telegramID: Self.telegramID, username: "new_name", firstName: "Grace", token: harness.botToken)
            let two = try await Self.auth(harness, json: #"{"init_data":"\#(second)"}"#)
            #expect(two.status == .ok, "\(two.text)")
            let firstUser = try #require(one.json?["user"] as? [String: Any])
            let secondUser = try #require(two.json?["user"] as? [String: Any])
            #expect((firstUser["id"] as? NSNumber) == (secondUser["id"] as? NSNumber))
            #expect(secondUser["username"] as? String == "new_name")
            #expect(secondUser["first_name"] as? String == "Grace")
            #expect(try await harness.count("SELECT count(*) FROM users") == 1)
            #expect(try await harness.count("SELECT count(*) FROM users WHERE username = 'new_name' AND first_name = 'Grace'") == 1)
            #expect(try await harness.count("SELECT count(*) FROM miniapp_sessions") == 2)
        }
    }

    @Test func theAccessTokenCarriesTheContractClaims() async throws {
        try await MiniAppAppHarness.with { harness in
            let before = Int64(Date().timeIntervalSince1970)
            let signedIn = try await harness.signIn(telegramID: Self.telegramID)
            let after = Int64(Date().timeIntervalSince1970)
            let header = try #require(Self.jwtSegment(signedIn.token, 0))
            #expect(header["alg"] as? String == "HS256")
            let claims = try #require(Self.jwtSegment(signedIn.token, 1))
            #expect(claims["sub"] as? String == String(signedIn.userID))
            #expect((claims["tg"] as? NSNumber)?.int64Value == Self.telegramID)
            let jti = try #require(claims["jti"] as? String)
            let iat = try #require((claims["iat"] as? NSNumber)?.int64Value)
            let exp = try #require((claims["exp"] as? NSNumber)?.int64Value)
            #expect(UUID(uuidString: jti) != nil)
            #expect(iat >= before - 1 && iat <= after)
            #expect(exp == iat + Int64(MiniAppAppHarness.jwtTTL))
            // HS256 with JWT_SECRET, checked independently of jwt-kit.
            let parts = signedIn.token.split(separator: ".")
            let mac = HMAC<SHA256>.authenticationCode(
                for: Data("\(parts[0]).\(parts[1])".utf8), using: SymmetricKey(data: Data(MiniAppAppHarness.jwtSecret.utf8)))
            let signature = Data(mac).base64EncodedString().replacingOccurrences(of: "+", with: "-")
                .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
            #expect(String(parts[2]) == signature)
            // The session row the token names.
            #expect(
                try await harness.count(
                    "SELECT count(*) FROM miniapp_sessions WHERE jti = \(jti)::uuid AND user_id = \(signedIn.userID) AND revoked_at IS NULL"
                ) == 1)
        }
    }

    @Test func invalidTamperedExpiredOrMissingInitDataIs401() async throws {
        try await MiniAppAppHarness.with { harness in
            let token = harness.botToken
            let fields = MiniAppInitData.fields(telegramID: Self.telegramID, username: "ada", firstName: "Ada", authDate: Date())
            let hash = MiniAppInitData.hash(fields, token: token)
            var tamperedFields = fields
            tamperedFields[2].1 = tamperedFields[2].1.replacingOccurrences(of: "\(Self.telegramID)", with: "1")
            let tampered = MiniAppInitData.encode(tamperedFields + [("hash", hash)])
            let otherBot = MiniAppInitData.make(telegramID: Self.telegramID, token: "1111111:AAAnotherBotsTokenXYZ")
            let expired = MiniAppInitData.make(
                telegramID: Self.telegramID, token: token, authDate: Date().addingTimeInterval(-2 * 86_400))
            let noHash = MiniAppInitData.encode(fields)
            let cases: [(String, String?, String?)] = [
                ("tampered", "tma \(tampered)", nil),
                ("signed with another bot's token", "tma \(otherBot)", nil),
                ("expired", "tma \(expired)", nil),
                ("no hash", "tma \(noHash)", nil),
                ("garbage", "tma not-init-data", nil),
                ("empty tma", "tma ", nil),
                ("missing", nil, nil),
                ("tampered in JSON", nil, #"{"init_data":"\#(tampered)"}"#),
                ("JSON without init_data", nil, "{}"),
                ("another scheme", "Bearer \(MiniAppInitData.make(telegramID: Self.telegramID, token: token))", nil),
            ]
            for (name, header, json) in cases {
                let response = try await Self.auth(harness, header: header, json: json)
                #expect(response.status == .unauthorized, "\(name): \(response.text)")
                #expect(response.headers[.contentType] == "application/problem+json", "\(name)")
                #expect(response.json?["status"] as? Int == 401, "\(name)")
                #expect(!response.text.contains(token), "\(name)")
            }
            #expect(try await harness.count("SELECT count(*) FROM users") == 0)
            #expect(try await harness.count("SELECT count(*) FROM miniapp_sessions") == 0)
        }
    }

    /// Behind a trusted proxy (`TRUSTED_PROXIES`, here the test client's own 127.0.0.1) the per-IP bucket (60) is
    /// keyed on the hop the proxy appended, so rotating the client-written first hop does not dodge it; another
    /// address still gets in.
    @Test func theExchangeIsRateLimitedPerClientAddressBehindATrustedProxy() async throws {
        try await MiniAppAppHarness.with(overrides: ["TRUSTED_PROXIES": "127.0.0.0/8, ::1"], testing: .live) { harness in
            func attempt(_ hops: String, _ initData: String) async throws -> TestResponse {
                try await harness.client.execute(
                    uri: "/api/v1/miniapp/auth", method: .post,
                    headers: [.authorization: "tma \(initData)", .xForwardedFor: hops])
            }
            // 60 in a burst, then one a second: well within 200 attempts the address must be refused, however
            // slowly the test machine sends them.
            var accepted = 0
            var limited: TestResponse?
            for index in 0..<200 {
                let response = try await attempt("10.9.\(index / 250).\(index % 250), 203.0.113.9", "bad")
                if response.status == .tooManyRequests {
                    limited = response
                    break
                }
                #expect(response.status == .unauthorized)
                accepted += 1
            }
            let refused = try #require(limited, "rotating the first X-Forwarded-For hop must not dodge the limit")
            Self.expectProblem(refused, .tooManyRequests)
            #expect(accepted >= 60)
            #expect(Int(refused.headers[.retryAfter] ?? "") ?? 0 >= 1)
            let valid = MiniAppInitData.make(telegramID: Self.telegramID, token: harness.botToken)
            // Another address has a bucket of its own.
            #expect(try await attempt("10.9.9.9, 198.51.100.7", valid).status == .ok)
        }
    }

    /// Without `TRUSTED_PROXIES` the TCP peer is the client: `X-Forwarded-For` is ignored, so a client cannot
    /// dodge its limit by writing a new address into it on every attempt.
    @Test func theExchangeIsRateLimitedPerPeerWhenNoProxyIsTrusted() async throws {
        try await MiniAppAppHarness.with(testing: .live) { harness in
            var limited: TestResponse?
            for index in 0..<200 {
                let response = try await harness.client.execute(
                    uri: "/api/v1/miniapp/auth", method: .post,
                    headers: [.authorization: "tma bad", .xForwardedFor: "198.51.\(index / 250).\(index % 250)"])
                if response.status == .tooManyRequests {
                    limited = response
                    break
                }
                #expect(response.status == .unauthorized)
            }
            let refused = try #require(limited, "a forged X-Forwarded-For must not dodge the per-peer limit")
            Self.expectProblem(refused, .tooManyRequests)
        }
    }

    @Test func malformedJSONOnTheExchangeIs400() async throws {
        try await MiniAppAppHarness.with { harness in
            let response = try await Self.auth(harness, json: #"{"init_data": "#)
            Self.expectProblem(response, .badRequest)
        }
    }

    // MARK: Bearer sessions

    @Test func missingGarbageForeignOrExpiredTokensAre401() async throws {
        try await MiniAppAppHarness.with { harness in
            let signedIn = try await harness.signIn(telegramID: Self.telegramID)
            let ok = try await harness.request(.get, "/api/v1/me", token: signedIn.token)
            #expect(ok.status == .ok)

            // A real session, correctly signed, whose exp has passed.
            let sessions = await SessionService(
                pool: harness.pool,
                configuration: try SessionConfiguration(currentSecret: MiniAppAppHarness.jwtSecret, ttlSeconds: 60))
            let expired = try await sessions.issue(
                userID: signedIn.userID, telegramID: Self.telegramID, userAgent: nil, now: Date().addingTimeInterval(-3600))
            // Same claims, signed with another key.
            let foreign = await SessionService(
                pool: harness.pool,
                configuration: try SessionConfiguration(currentSecret: String(repeating: "z", count: 40)))
            let forged = try await foreign.issue(userID: signedIn.userID, telegramID: Self.telegramID, userAgent: nil)

            let parts = signedIn.token.split(separator: ".").map(String.init)
            let swappedPayload = [parts[0], String(Self.jwtSegmentRaw(forged.token, 1)), parts[2]].joined(separator: ".")
            let cases: [(String, HTTPFields)] = [
                ("no token", [:]),
                ("garbage", [.authorization: "Bearer garbage"]),
                ("empty bearer", [.authorization: "Bearer "]),
                ("wrong scheme", [.authorization: "Basic \(signedIn.token)"]),
                ("expired", [.authorization: "Bearer \(expired.token)"]),
                ("signed with another key", [.authorization: "Bearer \(forged.token)"]),
                ("payload swapped", [.authorization: "Bearer \(swappedPayload)"]),
            ]
            for (name, headers) in cases {
                for uri in ["/api/v1/me", "/api/v1/billing/plans", "/api/v1/billing/invoices"] {
                    let response = try await harness.client.execute(uri: uri, method: .get, headers: headers)
                    #expect(response.status == .unauthorized, "\(name) \(uri): \(response.text)")
                    #expect(response.headers[.contentType] == "application/problem+json", "\(name) \(uri)")
                    #expect(response.headers[.wwwAuthenticate] != nil, "\(name) \(uri)")
                }
            }
            let checkout = try await harness.checkout(expired.token, plan: "premium_monthly", provider: "stripe", key: "k")
            Self.expectProblem(checkout, .unauthorized)
            #expect(harness.stripe.requests.isEmpty)
        }
    }

    static func jwtSegmentRaw(_ token: String, _ index: Int) -> Substring {
        token.split(separator: ".", omittingEmptySubsequences: false)[index]
    }
}
