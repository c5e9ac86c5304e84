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
            #expect(buckets == ["0.01", "0.05", "0.1", "0.5", "1.0", "+Inf"] || buckets == ["0.01", "0.05", "0.1", "0.5", "1", "+Inf"], "\(buckets)")
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

    @Test func aRevokedSessionIs401() async throws {
        try await MiniAppAppHarness.with { harness in
            let signedIn = try await harness.signIn(telegramID: Self.telegramID)
            let other = try await harness.signIn(telegramID: Self.telegramID)
            #expect(try await harness.request(.get, "/api/v1/me", token: signedIn.token).status == .ok)
            let jti = try #require(Self.jwtSegment(signedIn.token, 1)?["jti"] as? String)
            // Revoked in the database (by another instance, an admin, a logout elsewhere).
            _ = try await harness.pool.withConnection { connection in
                try await connection.execute("UPDATE miniapp_sessions SET revoked_at = now() WHERE jti = \(jti)::uuid")
            }
            let response = try await harness.request(.get, "/api/v1/me", token: signedIn.token)
            Self.expectProblem(response, .unauthorized)
            // The user's other session is untouched.
            #expect(try await harness.request(.get, "/api/v1/me", token: other.token).status == .ok)
        }
    }

    // MARK: Reads

    @Test func meListsTheUserAndOnlyActiveEntitlements() async throws {
        try await MiniAppAppHarness.with { harness in
            let signedIn = try await harness.signIn(telegramID: Self.telegramID, username: "ada", firstName: "Ada")
            let userID = signedIn.userID
            try await harness.insertEntitlement(
                userID: userID, plan: "premium_monthly", status: "active", source: "stripe", expiresIn: 30 * 86_400)
            try await harness.insertEntitlement(
                userID: userID, plan: "boost_week", status: "revoked", source: "telegram_stars", expiresIn: 5 * 86_400)
            try await harness.insertEntitlement(
                userID: userID, plan: "card_year", status: "active", source: "stripe", expiresIn: -3600)
            // Someone else's entitlement never shows.
            let other = try await harness.signIn(telegramID: Self.telegramID + 1)
            try await harness.insertEntitlement(
                userID: other.userID, plan: "boost_week", status: "active", source: "admin", expiresIn: 86_400)

            let response = try await harness.request(.get, "/api/v1/me", token: signedIn.token)
            #expect(response.status == .ok, "\(response.text)")
            #expect(response.headers[.contentType]?.hasPrefix("application/json") == true)
            let body = try #require(response.json)
            #expect(Self.keys(body) == ["user", "entitlements"])
            let user = try #require(body["user"] as? [String: Any])
            #expect(Self.keys(user) == ["id", "telegram_id", "username", "first_name"])
            #expect((user["id"] as? NSNumber)?.int64Value == userID)
            #expect((user["telegram_id"] as? NSNumber)?.int64Value == Self.telegramID)
            #expect(user["username"] as? String == "ada")
            #expect(user["first_name"] as? String == "Ada")
            let entitlements = try #require(body["entitlements"] as? [[String: Any]])
            #expect(entitlements.count == 1)
            let entitlement = try #require(entitlements.first)
            #expect(Self.keys(entitlement) == ["plan", "status", "expires_at", "source"])
            #expect(entitlement["plan"] as? String == "premium_monthly")
            #expect(entitlement["status"] as? String == "active")
            #expect(entitlement["source"] as? String == "stripe")
            #expect(Self.isRFC3339UTC(entitlement["expires_at"]))
        }
    }

    @Test func meShowsNullForMissingProfileFields() async throws {
        try await MiniAppAppHarness.with { harness in
            let signedIn = try await harness.signIn(telegramID: Self.telegramID, username: nil)
            let body = try #require(try await harness.request(.get, "/api/v1/me", token: signedIn.token).json)
            let user = try #require(body["user"] as? [String: Any])
            #expect(Self.keys(user) == ["id", "telegram_id", "username", "first_name"])
            #expect(user["username"] is NSNull)
            #expect((body["entitlements"] as? [Any])?.isEmpty == true)
        }
    }

    @Test func plansListActivePlansWithTheirStripeAvailability() async throws {
        try await MiniAppAppHarness.with { harness in
            let signedIn = try await harness.signIn(telegramID: Self.telegramID)
            let response = try await harness.request(.get, "/api/v1/billing/plans", token: signedIn.token)
            #expect(response.status == .ok, "\(response.text)")
            let plans = try #require(response.json?["plans"] as? [[String: Any]])
            let byCode = Dictionary(uniqueKeysWithValues: plans.compactMap { plan in (plan["code"] as? String).map { ($0, plan) } })
            #expect(Set(byCode.keys) == ["premium_monthly", "boost_week", "card_year"])
            for plan in plans {
                #expect(Self.keys(plan) == ["code", "name", "period_days", "stars_price", "stripe", "recurring"])
            }
            let premium = try #require(byCode["premium_monthly"])
            #expect(premium["name"] as? String == "Premium, monthly")
            #expect(premium["period_days"] as? Int == 30)
            #expect(premium["stars_price"] as? Int == 250)
            #expect(premium["stripe"] as? Bool == true)
            #expect(premium["recurring"] as? Bool == true)
            let boost = try #require(byCode["boost_week"])
            #expect(boost["stripe"] as? Bool == false)
            #expect(boost["stars_price"] as? Int == 50)
            #expect(boost["recurring"] as? Bool == false)
            let card = try #require(byCode["card_year"])
            #expect(card["stars_price"] is NSNull)
            #expect(card["stripe"] as? Bool == true)
        }
    }

    @Test func withoutAStripeKeyNoPlanIsSoldByStripe() async throws {
        try await MiniAppAppHarness.with(stripeConfigured: false) { harness in
            let signedIn = try await harness.signIn(telegramID: Self.telegramID)
            let plans = try #require(
                try await harness.request(.get, "/api/v1/billing/plans", token: signedIn.token).json?["plans"]
                    as? [[String: Any]])
            #expect(plans.count == 3)
            #expect(plans.allSatisfy { $0["stripe"] as? Bool == false })
            let checkout = try await harness.checkout(signedIn.token, plan: "premium_monthly", provider: "stripe", key: "s")
            Self.expectProblem(checkout, .unprocessableContent)
            let portal = try await harness.request(.post, "/api/v1/billing/portal", token: signedIn.token)
            Self.expectProblem(portal, .notFound)
            #expect(harness.stripe.requests.isEmpty)
        }
    }

    @Test func subscriptionIsTheLongestLastingEntitlementOrAllNulls() async throws {
        try await MiniAppAppHarness.with { harness in
            let signedIn = try await harness.signIn(telegramID: Self.telegramID)
            let empty = try await harness.request(.get, "/api/v1/billing/subscription", token: signedIn.token)
            #expect(empty.status == .ok, "\(empty.text)")
            let none = try #require(empty.json)
            #expect(Self.keys(none) == ["plan", "status", "expires_at", "provider", "renews"])
            #expect(none.filter { $0.key != "renews" }.values.allSatisfy { $0 is NSNull })
            #expect(none["renews"] as? Bool == false)

            try await harness.insertEntitlement(
                userID: signedIn.userID, plan: "premium_monthly", status: "active", source: "stripe", expiresIn: 30 * 86_400)
            try await harness.insertEntitlement(
                userID: signedIn.userID, plan: "boost_week", status: "active", source: "telegram_stars",
                expiresIn: 60 * 86_400)
            // Lasts longest but revoked: not a subscription.
            try await harness.insertEntitlement(
                userID: signedIn.userID, plan: "card_year", status: "revoked", source: "stripe", expiresIn: 300 * 86_400)
            let response = try await harness.request(.get, "/api/v1/billing/subscription", token: signedIn.token)
            let body = try #require(response.json)
            #expect(Self.keys(body) == ["plan", "status", "expires_at", "provider", "renews"])
            #expect(body["plan"] as? String == "boost_week")
            #expect(body["renews"] as? Bool == false)
            #expect(body["status"] as? String == "active")
            #expect(body["provider"] as? String == "telegram_stars")
            #expect(Self.isRFC3339UTC(body["expires_at"]))
        }
    }

    // MARK: Invoices

    @Test func invoicesOfBothProvidersComeNewestFirstWithTheContractShape() async throws {
        try await MiniAppAppHarness.with { harness in
            let signedIn = try await harness.signIn(telegramID: Self.telegramID)
            let base = Date().addingTimeInterval(-86_400)
            let stripeOld = try await harness.insertInvoice(
                userID: signedIn.userID, provider: "stripe", externalID: "in_1", status: "paid", amount: 999,
                currency: "EUR", createdAt: base, hostedURL: "https://invoice.stripe.com/i/in_1")
            let stars = try await harness.insertInvoice(
                userID: signedIn.userID, provider: "telegram_stars", externalID: "charge_1", status: "refunded", amount: 250,
                currency: "XTR", createdAt: base.addingTimeInterval(60))
            let stripeNew = try await harness.insertInvoice(
                userID: signedIn.userID, provider: "stripe", externalID: "in_2", status: "open", amount: 999,
                currency: "EUR", createdAt: base.addingTimeInterval(120), hostedURL: "https://invoice.stripe.com/i/in_2")
            let other = try await harness.signIn(telegramID: Self.telegramID + 7)
            try await harness.insertInvoice(
                userID: other.userID, provider: "stripe", externalID: "in_other", createdAt: base.addingTimeInterval(30))

            let response = try await harness.request(.get, "/api/v1/billing/invoices", token: signedIn.token)
            #expect(response.status == .ok, "\(response.text)")
            let body = try #require(response.json)
            #expect(Self.keys(body) == ["invoices", "next_cursor"])
            #expect(body["next_cursor"] is NSNull)
            let invoices = try #require(body["invoices"] as? [[String: Any]])
            #expect(invoices.compactMap { ($0["id"] as? NSNumber)?.int64Value } == [stripeNew, stars, stripeOld])
            for invoice in invoices {
                #expect(Self.keys(invoice) == ["id", "provider", "status", "amount", "currency", "created_at", "hosted_url"])
                #expect(Self.isRFC3339UTC(invoice["created_at"]))
            }
            #expect(invoices[0]["provider"] as? String == "stripe")
            #expect(invoices[0]["status"] as? String == "open")
            #expect(invoices[0]["hosted_url"] as? String == "https://invoice.stripe.com/i/in_2")
            #expect(invoices[1]["provider"] as? String == "telegram_stars")
            #expect(invoices[1]["status"] as? String == "refunded")
            #expect(invoices[1]["amount"] as? Int == 250)
            #expect(invoices[1]["currency"] as? String == "XTR")
            #expect(invoices[1]["hosted_url"] is NSNull)
            #expect(invoices[2]["amount"] as? Int == 999)
        }
    }

    /// Pages of 7 over 25 invoices (several sharing a timestamp) while new invoices keep arriving: every old invoice
    /// exactly once, in order, and the last page has no cursor.
    @Test func cursorPagingHasNoDuplicatesOrGapsWhileInvoicesArrive() async throws {
        try await MiniAppAppHarness.with { harness in
            let signedIn = try await harness.signIn(telegramID: Self.telegramID)
            let base = Date().addingTimeInterval(-10 * 86_400)
            var expected: [(Date, Int64)] = []
            for index in 0..<25 {
                // Groups of three share one created_at, so the id breaks ties.
                let createdAt = base.addingTimeInterval(Double(index / 3) * 3600 + 0.000_123)
                let id = try await harness.insertInvoice(
                    userID: signedIn.userID, provider: index.isMultiple(of: 2) ? "stripe" : "telegram_stars",
                    externalID: "old-\(index)", currency: index.isMultiple(of: 2) ? "USD" : "XTR", createdAt: createdAt)
                expected.append((createdAt, id))
            }
            let expectedIDs = expected.sorted { ($0.0, $0.1) > ($1.0, $1.1) }.map(\.1)

            var seen: [Int64] = []
            var cursor: String?
            var pages = 0
            repeat {
                let uri = "/api/v1/billing/invoices?limit=7" + (cursor.map { "&cursor=\($0)" } ?? "")
                let response = try await harness.request(.get, uri, token: signedIn.token)
                #expect(response.status == .ok, "\(response.text)")
                let body = try #require(response.json)
                let invoices = try #require(body["invoices"] as? [[String: Any]])
                seen += invoices.compactMap { ($0["id"] as? NSNumber)?.int64Value }
                cursor = body["next_cursor"] as? String
                pages += 1
                // A new invoice arrives between pages.
                try await harness.insertInvoice(
                    userID: signedIn.userID, provider: "stripe", externalID: "new-\(pages)", createdAt: Date())
            } while cursor != nil && pages < 10
            #expect(pages == 4)
            #expect(seen == expectedIDs)
            #expect(Set(seen).count == seen.count)
        }
    }

    /// `limit=100` with 101 invoices: the full page still points to the rest.
    @Test func aFullPageOfTheMaximumSizeStillHasANextCursor() async throws {
        try await MiniAppAppHarness.with { harness in
            let signedIn = try await harness.signIn(telegramID: Self.telegramID)
            _ = try await harness.pool.withConnection { connection in
                try await connection.execute(
                    """
                    INSERT INTO invoices (provider, provider_invoice_id, user_id, amount, currency, status, created_at)
                    SELECT 'stripe', 'bulk-' || n, \(signedIn.userID), 100, 'USD', 'paid', now() - n * interval '1 minute'
                    FROM generate_series(1, 101) AS n
                    """)
            }
            let first = try #require(
                try await harness.request(.get, "/api/v1/billing/invoices?limit=100", token: signedIn.token).json)
            #expect((first["invoices"] as? [Any])?.count == 100)
            let cursor = try #require(first["next_cursor"] as? String)
            let second = try #require(
                try await harness.request(.get, "/api/v1/billing/invoices?limit=100&cursor=\(cursor)", token: signedIn.token)
                    .json)
            #expect((second["invoices"] as? [Any])?.count == 1)
            #expect(second["next_cursor"] is NSNull)

            // Exactly 100: one page, no cursor.
            _ = try await harness.pool.withConnection { connection in
                try await connection.execute("DELETE FROM invoices WHERE provider_invoice_id = 'bulk-101'")
            }
            let only = try #require(
                try await harness.request(.get, "/api/v1/billing/invoices?limit=100", token: signedIn.token).json)
            #expect((only["invoices"] as? [Any])?.count == 100)
            #expect(only["next_cursor"] is NSNull)
        }
    }

    @Test func invoiceLimitAndCursorAreValidated() async throws {
        try await MiniAppAppHarness.with { harness in
            let signedIn = try await harness.signIn(telegramID: Self.telegramID)
            for query in ["limit=0", "limit=101", "limit=-1", "limit=abc", "cursor=***", "cursor=bm90LWEtY3Vyc29y",
                "cursor=" + String(repeating: "A", count: 200), "cursor=MTIz"]
            {
                let response = try await harness.request(.get, "/api/v1/billing/invoices?\(query)", token: signedIn.token)
                Self.expectProblem(response, .badRequest)
            }
            for query in ["limit=1", "limit=100", ""] {
                let response = try await harness.request(.get, "/api/v1/billing/invoices?\(query)", token: signedIn.token)
                #expect(response.status == .ok, "\(query): \(response.text)")
            }
        }
    }

    // MARK: Checkout

    @Test func checkoutRequestsThatCannotRunAreRefused() async throws {
        try await MiniAppAppHarness.with { harness in
            let token = try await harness.signIn(telegramID: Self.telegramID).token
            let missingKey = try await harness.checkout(token, plan: "premium_monthly", provider: "stripe", key: nil)
            Self.expectProblem(missingKey, .badRequest)
            let emptyKey = try await harness.checkout(token, plan: "premium_monthly", provider: "stripe", key: "")
            Self.expectProblem(emptyKey, .badRequest)
            let longKey = try await harness.checkout(
                token, plan: "premium_monthly", provider: "stripe", key: String(repeating: "x", count: 256))
            Self.expectProblem(longKey, .badRequest)

            var headers: HTTPFields = [:]
            headers[try #require(HTTPField.Name("Idempotency-Key"))] = "malformed"
            let malformed = try await harness.request(
                .post, "/api/v1/billing/checkout", token: token, json: #"{"plan": "premium_monthly", "#, headers: headers)
            Self.expectProblem(malformed, .badRequest)
            let notAnObject = try await harness.request(
                .post, "/api/v1/billing/checkout", token: token, json: "[1,2]", headers: headers)
            Self.expectProblem(notAnObject, .badRequest)

            let unknownProvider = try await harness.checkout(token, plan: "premium_monthly", provider: "paypal", key: "p")
            Self.expectProblem(unknownProvider, .badRequest)
            let noStripePrice = try await harness.checkout(token, plan: "boost_week", provider: "stripe", key: "n1")
            Self.expectProblem(noStripePrice, .unprocessableContent)
            let noStarsPrice = try await harness.checkout(token, plan: "card_year", provider: "telegram_stars", key: "n2")
            Self.expectProblem(noStarsPrice, .unprocessableContent)
            let inactive = try await harness.checkout(token, plan: "old_plan", provider: "stripe", key: "n3")
            Self.expectProblem(inactive, .unprocessableContent)
            let unknownPlan = try await harness.checkout(token, plan: "nope", provider: "stripe", key: "n4")
            Self.expectProblem(unknownPlan, .unprocessableContent)

            #expect(harness.stripe.requests.isEmpty)
            #expect(harness.bot.callCount("createInvoiceLink") == 0)
            #expect(try harness.metric("miniapp_checkout_start_total", ["plan": "premium_monthly"]) == 0)
        }
    }

    @Test func sameKeyTwiceAnswersTheSameURLWithOneStripeCallAndCountsOnce() async throws {
        try await MiniAppAppHarness.with { harness in
            let token = try await harness.signIn(telegramID: Self.telegramID).token
            let first = try await harness.checkout(token, plan: "premium_monthly", provider: "stripe", key: "abc-123")
            #expect(first.status == .ok, "\(first.text)")
            let second = try await harness.checkout(token, plan: "premium_monthly", provider: "stripe", key: "abc-123")
            #expect(second.status == .ok, "\(second.text)")
            let body = try #require(first.json)
            #expect(Self.keys(body) == ["provider", "url"])
            #expect(body["provider"] as? String == "stripe")
            let url = try #require(body["url"] as? String)
            #expect(url.hasPrefix("https://checkout.stripe.com/"))
            #expect(second.json?["url"] as? String == url)
            #expect(harness.stripe.requests(path: "/v1/checkout/sessions").count == 1)
            #expect(harness.stripe.createdIDs(.checkoutSession).count == 1)
            let session = try #require(harness.stripe.requests(path: "/v1/checkout/sessions").first)
            #expect(session.form["success_url"]?.hasPrefix(MiniAppAppHarness.publicBaseURL + "/") == true)
            #expect(session.form["cancel_url"]?.hasPrefix(MiniAppAppHarness.publicBaseURL + "/") == true)

            // Counted once, in both counters.
            #expect(try harness.metric("miniapp_checkout_start_total", ["plan": "premium_monthly"]) == 1)
            #expect(try harness.metric("billing_checkout_started_total", ["plan": "premium_monthly"]) == 1)

            // The same key with another body: 422, nothing called.
            let reused = try await harness.checkout(token, plan: "premium_monthly", provider: "telegram_stars", key: "abc-123")
            Self.expectProblem(reused, .unprocessableContent)
            #expect(harness.bot.callCount("createInvoiceLink") == 0)
            #expect(harness.stripe.requests(path: "/v1/checkout/sessions").count == 1)
        }
    }

    @Test func concurrentRequestsWithOneKeyGet409OrTheSameAnswer() async throws {
        try await MiniAppAppHarness.with { harness in
            let token = try await harness.signIn(telegramID: Self.telegramID).token
            // The first request holds the key while Stripe takes 8 s; the other 19 are sent once the key is
            // recorded in flight, so they overlap it whatever the machine's load (no race on who starts first).
            harness.stripe.inject(.delay(.seconds(8)), path: "/v1/checkout/sessions")
            let answers = try await withThrowingTaskGroup(of: (Int, String?).self) { group in
                @Sendable func send() async throws -> (Int, String?) {
                    let response = try await harness.checkout(token, plan: "premium_monthly", provider: "stripe", key: "same")
                    return (Int(response.status.code), response.json?["url"] as? String)
                }
                group.addTask { try await send() }
                for _ in 0..<400 {
                    let inFlight = try await harness.count(
                        "SELECT count(*) FROM idempotency_keys WHERE idempotency_key = 'same' AND recovery_point = 'started'")
                    if inFlight == 1 { break }
                    try await Task.sleep(for: .milliseconds(10))
                }
                for _ in 0..<19 { group.addTask { try await send() } }
                return try await group.reduce(into: [(Int, String?)]()) { $0.append($1) }
            }
            #expect(answers.count == 20)
            #expect(answers.allSatisfy { $0.0 == 200 || $0.0 == 409 })
            #expect(answers.contains { $0.0 == 409 })
            let urls = Set(answers.filter { $0.0 == 200 }.compactMap(\.1))
            #expect(urls.count == 1)
            #expect(harness.stripe.requests(path: "/v1/checkout/sessions").count == 1)
            #expect(try harness.metric("miniapp_checkout_start_total", ["plan": "premium_monthly"]) == 1)
        }
    }

    @Test func starsCheckoutAnswersAnInvoiceLink() async throws {
        try await MiniAppAppHarness.with { harness in
            let token = try await harness.signIn(telegramID: Self.telegramID).token
            let response = try await harness.checkout(token, plan: "boost_week", provider: "telegram_stars", key: "stars")
            #expect(response.status == .ok, "\(response.text)")
            #expect(response.json?["provider"] as? String == "telegram_stars")
            #expect((response.json?["url"] as? String)?.hasPrefix("https://t.me/$") == true)
            let call = try #require(harness.bot.calls("createInvoiceLink").first)
            #expect(call.body["currency"]?.string == "XTR")
            #expect(call.body["prices"]?[0]?["amount"]?.int == 50)
            #expect(try harness.metric("miniapp_checkout_start_total", ["plan": "boost_week"]) == 1)
            #expect(try harness.metric("billing_checkout_started_total", ["plan": "boost_week"]) == 1)
        }
    }

    // MARK: Portal

    @Test func portalIs404WithoutACustomerAndAStripeURLWithOne() async throws {
        try await MiniAppAppHarness.with { harness in
            let signedIn = try await harness.signIn(telegramID: Self.telegramID)
            let none = try await harness.request(.post, "/api/v1/billing/portal", token: signedIn.token)
            Self.expectProblem(none, .notFound)
            #expect(try harness.metric("miniapp_portal_open_total") == 0)
            #expect(harness.stripe.requests.isEmpty)

            _ = try await harness.pool.withConnection { connection in
                try await connection.execute(
                    "INSERT INTO stripe_customers (user_id, customer_id) VALUES (\(signedIn.userID), 'cus_portal1')")
            }
            let response = try await harness.request(.post, "/api/v1/billing/portal", token: signedIn.token)
            #expect(response.status == .ok, "\(response.text)")
            let body = try #require(response.json)
            #expect(Self.keys(body) == ["url"])
            #expect((body["url"] as? String)?.hasPrefix("https://billing.stripe.com/") == true)
            let request = try #require(harness.stripe.requests(path: "/v1/billing_portal/sessions").first)
            #expect(request.form["customer"] == "cus_portal1")
            #expect(request.form["return_url"]?.hasPrefix(MiniAppAppHarness.publicBaseURL + "/") == true)
            #expect(try harness.metric("miniapp_portal_open_total") == 1)
        }
    }

    // MARK: Page

    @Test func theBillingPageIsServed() async throws {
        try await MiniAppAppHarness.with { harness in
            let page = try await harness.client.execute(uri: "/miniapp/", method: .get)
            #expect(page.status == .ok)
            #expect(page.headers[.contentType]?.hasPrefix("text/html") == true)
            #expect(page.text.lowercased().contains("<html"))
            let withoutSlash = try await harness.client.execute(uri: "/miniapp", method: .get)
            #expect(withoutSlash.status == .ok)
            #expect(withoutSlash.headers[.contentType]?.hasPrefix("text/html") == true)
            let script = try await harness.client.execute(uri: "/miniapp/app.js", method: .get)
            #expect(script.status == .ok)
            let missing = try await harness.client.execute(uri: "/miniapp/nope.txt", method: .get)
            Self.expectProblem(missing, .notFound)
        }
    }
}
