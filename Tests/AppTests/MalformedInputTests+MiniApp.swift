import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import PGClient
import TestSupport
import Testing

@testable import App

// MARK: - Mini App initData exchange

extension MalformedInputTests {
    typealias MiniApp = MiniAppAppHarness

    static func auth(_ app: MiniApp, headers: HTTPFields, body: [UInt8]) async throws -> TestResponse {
        try await request(app.client, "/api/v1/miniapp/auth", headers: headers, body: body)
    }

    /// Hostile bodies under every content type: over 16 KiB they are 413; JSON types are parsed (400 when the body is
    /// not an object with a string `init_data`, else 401); other types carry no initData (401). Nothing written.
    @Test func miniAppAuthHostileBodiesAre400Or401ProblemsAndWriteNothing() async throws {
        try await MiniApp.with { app in
            let before = try await Self.rowCounts(app.pool)
            for body in Self.hostileBodies {
                for contentType in Self.contentTypes {
                    var headers: HTTPFields = [:]
                    if let contentType { headers[.contentType] = contentType }
                    // Sign-in bodies over 16 KiB are refused before anything reads them.
                    let expected: HTTPResponse.Status =
                        body.bytes.count > BodyLimitMiddleware.smallBodyBytes
                        ? .contentTooLarge
                        : contentType?.contains("json") == true ? body.asAuthJSON : .unauthorized
                    let response = try await Self.auth(app, headers: headers, body: body.bytes)
                    Self.expectProblem(response, expected, "\(body) / \(contentType ?? "no type")")
                }
            }
            #expect(try await Self.rowCounts(app.pool) == before)
        }
    }

    /// Malformed, tampered, stale and oversized initData, in the `tma` header and in the JSON body: 401, nothing
    /// written, the bot token never echoed.
    @Test func miniAppMalformedInitDataIs401AndWritesNothing() async throws {
        try await MiniApp.with { app in
            let token = app.botToken
            let now = Int64(Date().timeIntervalSince1970)
            let user = #"{"id":6100001,"first_name":"Ada"}"#
            func signed(_ user: String = user, authDate: String = "\(now)", extra: [(String, String)] = []) -> String {
                MiniAppInitData.sign(
                    [("auth_date", authDate), ("query_id", "Q")] + extra + [("user", user)], token: token)
            }
            let valid = signed()
            let fields = [("auth_date", "\(now)"), ("query_id", "Q"), ("user", user)]
            let hash = MiniAppInitData.hash(fields, token: token)
            let cases: [(String, String)] = [
                // hash
                ("missing hash", MiniAppInitData.encode(fields)),
                ("empty hash", MiniAppInitData.encode(fields + [("hash", "")])),
                ("hash not hex", MiniAppInitData.encode(fields + [("hash", String(repeating: "zz", count: 32))])),
                ("short hash", MiniAppInitData.encode(fields + [("hash", String(hash.prefix(10)))])),
                ("100 KB hash", MiniAppInitData.encode(fields + [("hash", String(repeating: "a", count: 100_000))])),
                (
                    "hash of other data",
                    MiniAppInitData.encode([("auth_date", "\(now)"), ("user", user), ("hash", hash)])
                ),
                // keys
                ("duplicated hash", valid + "&hash=" + hash),
                ("duplicated auth_date, signed", signed(extra: [("auth_date", "1")])),
                ("duplicated user", valid + "&user=" + #"%7B%22id%22%3A1%7D"#),
                ("empty key", "=1&" + valid),
                ("pair without =", "garbage&" + valid),
                ("empty pairs", "&&&" + valid),
                ("100 pairs", (0..<100).map { "k\($0)=v" }.joined(separator: "&") + "&" + valid),
                // percent-encoding
                ("lone %", valid.replacingOccurrences(of: "query_id=Q", with: "query_id=Q%")),
                ("%zz", valid.replacingOccurrences(of: "query_id=Q", with: "query_id=%zz")),
                ("%4", valid.replacingOccurrences(of: "query_id=Q", with: "query_id=%4")),
                ("%E2%82 (cut UTF-8)", valid.replacingOccurrences(of: "query_id=Q", with: "query_id=%E2%82")),
                ("%FF (not UTF-8)", valid.replacingOccurrences(of: "query_id=Q", with: "query_id=%FF")),
                ("%00 in a key", valid.replacingOccurrences(of: "query_id=Q", with: "query%00id=Q")),
                ("%00 in the signed user", signed("{\"id\":6100002,\"first_name\":\"A\u{0}\"}")),
                // size
                (
                    "20 KB user, unsigned",
                    MiniAppInitData.encode(
                        fields.dropLast() + [
                            ("user", #"{"id":1,"first_name":"\#(String(repeating: "x", count: 20_000))"}"#),
                            ("hash", hash),
                        ])
                ),
                (
                    "20 KB user, signed",
                    signed(#"{"id":6100003,"first_name":"\#(String(repeating: "x", count: 20_000))"}"#)
                ),
                // auth_date
                ("auth_date a day ahead", signed(authDate: "\(now + 86_400)")),
                ("auth_date far future", signed(authDate: "99999999999")),
                ("auth_date Int64.max", signed(authDate: "9223372036854775807")),
                ("auth_date 2^64+1", signed(authDate: "18446744073709551617")),
                ("auth_date two days ago", signed(authDate: "\(now - 2 * 86_400)")),
                ("auth_date 0", signed(authDate: "0")),
                ("auth_date -1", signed(authDate: "-1")),
                ("auth_date +now", signed(authDate: "+\(now)")),
                ("auth_date now.0", signed(authDate: "\(now).0")),
                ("auth_date 1e9", signed(authDate: "1e9")),
                ("auth_date abc", signed(authDate: "abc")),
                ("auth_date empty", signed(authDate: "")),
                ("auth_date Arabic digits", signed(authDate: "\u{0661}\u{0667}\u{0660}\u{0660}")),
                ("no auth_date", MiniAppInitData.sign([("query_id", "Q"), ("user", user)], token: token)),
                // user
                ("no user", MiniAppInitData.sign([("auth_date", "\(now)"), ("query_id", "Q")], token: token)),
                ("user id 2^64+1", signed(#"{"id":18446744073709551617}"#)),
                ("user id 1e400", signed(#"{"id":1e400}"#)),
                ("user id 0", signed(#"{"id":0}"#)),
                ("user id -1", signed(#"{"id":-1}"#)),
                ("user id 5.5", signed(#"{"id":5.5}"#)),
                ("user id string", signed(#"{"id":"6100004"}"#)),
                ("user is an array", signed("[1]")),
                ("user is not JSON", signed("{id:1")),
                ("user is null", signed("null")),
                ("user with a lone surrogate", signed(#"{"id":6100005,"first_name":"\ud800"}"#)),
                (
                    "user nested 3000 deep",
                    signed(
                        #"{"id":6100006,"x":\#(String(repeating: "[", count: 3_000) + String(repeating: "]", count: 3_000))}"#
                    )
                ),
                // shape
                ("not initData", "not-init-data"),
                ("only =", "="),
                ("100 KB of garbage", String(repeating: "%", count: 100_000)),
            ]
            let before = try await Self.rowCounts(app.pool)
            for (name, initData) in cases {
                let inHeader = try await Self.auth(app, headers: [.authorization: "tma \(initData)"], body: [])
                Self.expectProblem(inHeader, .unauthorized, "header: \(name)")
                #expect(!inHeader.text.contains(token), "\(name)")
                let json = #"{"init_data":\#(TelegramUpdates.jsonString(initData))}"#
                let inBody = try await Self.auth(
                    app, headers: [.contentType: "application/json"], body: Array(json.utf8))
                let tooLarge = json.utf8.count > BodyLimitMiddleware.smallBodyBytes
                Self.expectProblem(inBody, tooLarge ? .contentTooLarge : .unauthorized, "body: \(name)")
            }
            let headers: [(String, HTTPFields)] = [
                ("tma without a space", [.authorization: "tma" + valid]),
                ("another scheme", [.authorization: "Basic " + valid]),
                ("100 KB Authorization", [.authorization: "tma " + String(repeating: "a", count: 100_000)]),
                ("empty Authorization", [.authorization: ""]),
            ]
            for (name, fields) in headers {
                Self.expectProblem(try await Self.auth(app, headers: fields, body: []), .unauthorized, name)
            }
            #expect(try await Self.rowCounts(app.pool) == before)
        }
    }

    /// Authentic initData with oversized profile fields and hostile side headers signs in once, with the fields cut
    /// to the column limits.
    @Test func miniAppSignedInitDataWithOversizedFieldsSignsInWithClippedValues() async throws {
        try await MiniApp.with { app in
            let now = Int64(Date().timeIntervalSince1970)
            let user = #"""
                {"id":6200001,"first_name":"\#(String(repeating: "F", count: 5_000))","last_name":"\#(String(repeating: "L", count: 5_000))",\#
                "username":"\#(String(repeating: "u", count: 500))","language_code":"\#(String(repeating: "l", count: 500))","extra":[[[[1e400]]]]}
                """#
            let initData = MiniAppInitData.sign([("auth_date", "\(now)"), ("user", user)], token: app.botToken)
            let response = try await Self.auth(
                app,
                headers: [
                    .authorization: "tma \(initData)", .userAgent: String(repeating: "U", count: 100_000),
                    Self.field("X-Forwarded-For"): String(repeating: "1.2.3.4, ", count: 10_000) + "203.0.113.1",
                ],
                body: [])
            #expect(response.status == .ok, "\(response.text.prefix(300))")
            #expect(try await app.count("SELECT count(*) FROM users WHERE telegram_user_id = 6200001") == 1)
            #expect(try await app.count("SELECT length(first_name) FROM users WHERE telegram_user_id = 6200001") == 256)
            #expect(try await app.count("SELECT length(username) FROM users WHERE telegram_user_id = 6200001") == 64)
            #expect(
                try await app.count("SELECT length(language_code) FROM users WHERE telegram_user_id = 6200001") == 35)
            #expect(try await app.count("SELECT max(length(user_agent)) FROM miniapp_sessions") == 512)
        }
    }
}

// MARK: - Inputs scripts/fuzz (schemathesis) found

extension MalformedInputTests {
    /// schemathesis: an empty `reason` broke `entitlement_changes_reason_length` (1-500 characters) and answered 500.
    /// Now 400 (`PGError.isRejectedValue`), and the grant or revoke is rolled back whole.
    @Test func fuzzFoundAdminEntitlementChangesWithAnEmptyReasonAre400() async throws {
        try await Telegram.with { app in
            try await app.pay(charge: "ch_fuzz_reason", updateID: 9_001)
            let userID = try await app.count("SELECT id FROM users")
            let before = try await Self.rowCounts(app.pool)
            let requests: [(HTTPRequest.Method, String)] = [
                (.post, #"{"user_id": \#(userID), "plan": "boost_week", "days": 1, "reason": ""}"#),
                (.post, #"{"telegram_id": 1, "plan": "boost_week", "days": 1, "reason": ""}"#),
                (.post, #"{"telegram_id": 515396487, "plan": "boost_week", "days": 3440, "reason": ""}"#),
                (.delete, #"{"telegram_id": \#(TelegramUpdates.buyer), "plan": "boost_week", "reason": ""}"#),
            ]
            for (method, json) in requests {
                let response = try await app.admin(method, "/admin/v1/entitlements", json: json)
                Self.expectProblem(response, .badRequest, "\(method) \(json.prefix(80))")
                #expect(!response.text.contains("entitlement_changes"), "no SQL details: \(response.text)")
            }
            #expect(try await Self.rowCounts(app.pool) == before)

            // Found next to it: the reason was cut to 500 Swift Characters, but the CHECK counts Unicode scalars, so
            // 300 flags (600 scalars) failed it. Now cut to 500 scalars and granted.
            let flags = String(repeating: "\u{1F1FA}\u{1F1F8}", count: 300)
            let response = try await app.admin(
                .post, "/admin/v1/entitlements",
                json: #"{"user_id": \#(userID), "plan": "boost_week", "days": 1, "reason": "\#(flags)"}"#)
            #expect(response.status == .ok, "\(response.text)")
            #expect(try await app.count("SELECT max(length(reason)) FROM entitlement_changes") == 500)
        }
    }

    /// schemathesis: a well-formed `GET /api/v1/marketing/clicks` cursor (22 base64url characters) whose timestamp
    /// lies past year 9999 overflowed PostgreSQL's timestamp arithmetic (22008) and answered 500. Now the cursor is
    /// refused as invalid: 400.
    @Test func fuzzFoundMarketingCursorsBeyondTheTimestampRangeAre400() async throws {
        try await MiniApp.with { app in
            let user = try await app.signIn(telegramID: 6_300_001)
            let cursors = [
                "05CX2BKCdQMs0kZkucy3-A", "v0ErWsoPDJZssEv8Gd251E", "30n04NGxFLQSH6JlxOg3p3", "-ZQQs8AQf6BZ71Hhp6C0Py",
                "__________8AAAAAAAAAAQ", "gAAAAAAAAAAAAAAAAAAAAQ", "f_________8AAAAAAAAAAQ", "A4REDMxzYAAAAAAAAAAAAQ",
            ]
            for cursor in cursors {
                for limit in ["", "&limit=45"] {
                    let response = try await app.request(
                        .get, "/api/v1/marketing/clicks?cursor=\(cursor)\(limit)", token: user.token)
                    Self.expectProblem(response, .badRequest, cursor)
                }
            }
            // A cursor at the edge of the range is still a cursor: an empty page.
            let edge = try await app.request(
                .get, "/api/v1/marketing/clicks?cursor=A4REDMxzX_8AAAAAAAAAAQ", token: user.token)
            #expect(edge.status == .ok, "\(edge.text)")
        }
    }
}
