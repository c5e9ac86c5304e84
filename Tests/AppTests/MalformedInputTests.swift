import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import PGClient
import TestSupport
import Testing

@testable import App

/// Hostile and malformed input on the three unauthenticated entry points (the Stripe webhook, the Telegram webhook and
/// the Mini App initData exchange): never a 5xx, always the documented 4xx as `application/problem+json`, and not a
/// row written anywhere. Inputs found by `scripts/fuzz` (schemathesis) are kept here as regressions too.
@Suite struct MalformedInputTests {
    // MARK: Inputs

    /// A named request body, with what the endpoints must answer when it arrives authenticated.
    struct Body: Sendable, CustomStringConvertible {
        let name: String
        let bytes: [UInt8]
        /// The `update_id` when the body is (leniently) a Telegram update of an unknown kind: accepted once with 200.
        /// nil: not an update: kept raw as dead, 200.
        var updateID: Int64?
        /// The answer of `POST /api/v1/miniapp/auth` when sent as JSON: 400 when it is not a JSON object with an
        /// optional string `init_data`, else 401 (no valid initData).
        var asAuthJSON: HTTPResponse.Status = .badRequest
        var description: String { name }

        init(_ name: String, _ text: String, updateID: Int64? = nil, asAuthJSON: HTTPResponse.Status = .badRequest) {
            self.init(name, bytes: Array(text.utf8), updateID: updateID, asAuthJSON: asAuthJSON)
        }

        init(_ name: String, bytes: [UInt8], updateID: Int64? = nil, asAuthJSON: HTTPResponse.Status = .badRequest) {
            self.name = name
            self.bytes = bytes
            self.updateID = updateID
            self.asAuthJSON = asAuthJSON
        }

        var data: Data { Data(bytes) }
    }

    /// Bodies no endpoint may answer with a 5xx: none of them is a valid Stripe event, Telegram update or auth
    /// request.
    static let hostileBodies: [Body] = [
        Body("empty", ""),
        Body("whitespace", " \r\n\t "),
        Body("100k open brackets", String(repeating: "[", count: 100_000)),
        Body("100k nested objects", String(repeating: #"{"a":"#, count: 100_000)),
        Body("5k balanced nested arrays", String(repeating: "[", count: 5_000) + String(repeating: "]", count: 5_000)),
        Body("1e400 as id", #"{"id":1e400,"update_id":1e400,"init_data":1e400}"#),
        Body(
            "2^64+1 as id", #"{"id":18446744073709551617,"update_id":18446744073709551617}"#, asAuthJSON: .unauthorized),
        Body(
            "-2^63-1 as id", #"{"id":-9223372036854775809,"update_id":-9223372036854775809}"#, asAuthJSON: .unauthorized
        ),
        Body("1e1000000 number", #"{"id":"evt_x","x":1e1000000}"#, asAuthJSON: .unauthorized),
        Body("invalid UTF-8 bytes", bytes: [0xFF, 0xFE, 0xC3, 0x28, 0xA0, 0xA1, 0xE2, 0x28, 0xA1, 0xF0, 0x90, 0x28]),
        // Foundation's decoder does not validate strings of keys nobody reads, so these two are (leniently) objects.
        Body(
            "invalid UTF-8 in a JSON string",
            bytes: Array(#"{"id":""#.utf8) + [0xC3, 0x28, 0xFF] + Array(#"","update_id":3}"#.utf8), updateID: 3,
            asAuthJSON: .unauthorized),
        Body(
            "NUL inside a JSON string", bytes: Array(#"{"id":"a"#.utf8) + [0] + Array(#"b"}"#.utf8),
            asAuthJSON: .unauthorized),
        Body("UTF-16 with BOM", bytes: [0xFE, 0xFF, 0x00, 0x7B, 0x00, 0x7D], asAuthJSON: .unauthorized),
        Body("NUL bytes", bytes: [0, 0, 0, 0]),
        Body("escaped NUL", #"{"id":"a\u0000b","init_data":"a\u0000b"}"#, asAuthJSON: .unauthorized),
        Body("lone surrogate", #"{"id":"\ud800","init_data":"\udfff"}"#),
        Body(
            "duplicate keys", #"{"id":"a","id":"b","update_id":1,"update_id":1,"init_data":"x","init_data":"y"}"#,
            updateID: 1, asAuthJSON: .unauthorized),
        Body("truncated", #"{"id": "evt_1", "type": "#),
        Body("JSON null", "null"),
        Body("JSON array", "[]"),
        Body("JSON string", #""{}""#),
        Body("JSON number", "42"),
        Body("form encoded", "id=1&update_id=2&init_data=3"),
        Body("trailing garbage", #"{"id":"a"} {"id":"b"}"#),
        Body("wrong types", #"{"id":[],"type":{},"created":"yesterday","data":7,"update_id":"1","init_data":[]}"#),
    ]

    /// Content types sent with the hostile bodies (nil: no header).
    static let contentTypes: [String?] = [
        nil, "application/json", "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
        "application/json; charset=utf-16", "application/octet-stream", "application/problem+json", ";;;",
    ]

    // MARK: Helpers

    /// Checks that `response` is the problem+json answer with `status`.
    static func expectProblem(
        _ response: TestResponse, _ status: HTTPResponse.Status, _ name: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        #expect(
            response.status == status, "\(name): \(response.status) \(response.text.prefix(300))",
            sourceLocation: sourceLocation)
        #expect(response.status.code < 500, "\(name): 5xx", sourceLocation: sourceLocation)
        #expect(
            response.headers[.contentType] == "application/problem+json",
            "\(name): \(response.headers[.contentType] ?? "none")",
            sourceLocation: sourceLocation)
        #expect(response.json?["status"] as? Int == Int(status.code), "\(name)", sourceLocation: sourceLocation)
    }

    /// The tables any of the three endpoints could write to.
    static let tables = [
        "users", "payment_events", "user_entitlements", "entitlement_changes", "invoices", "stripe_customers",
        "stripe_subscriptions", "notification_outbox", "telegram_updates", "stars_refunds", "miniapp_sessions",
        "marketing_clicks", "idempotency_keys",
    ]

    /// Row counts of `tables`.
    /// An authenticated body that cannot be applied is kept, never dropped: the only rows written are
    /// `payment_events` rows holding the raw bytes, `dead`, with no jsonb payload (at most one per distinct body).
    static func expectKeptRaw(
        _ pool: PGPool, before: [String: Int], atMost: Int, _ comment: String = "", sourceLocation: SourceLocation = #_sourceLocation
    ) async throws {
        var after = try await rowCounts(pool)
        let added = (after["payment_events"] ?? 0) - (before["payment_events"] ?? 0)
        after["payment_events"] = before["payment_events"]
        #expect(after == before, "only payment_events may grow \(comment)", sourceLocation: sourceLocation)
        #expect(added >= 1 && added <= atMost, "\(added) raw rows for \(atMost) bodies \(comment)", sourceLocation: sourceLocation)
        let raw = try await pool.withConnection { connection in
            try await connection.query(
                "SELECT count(*) AS n FROM payment_events WHERE status = 'dead' AND payload IS NULL AND raw_body IS NOT NULL"
            ).first?.decode("n", as: Int64.self) ?? 0
        }
        #expect(Int(raw) >= added, "every added row is a dead raw row \(comment)", sourceLocation: sourceLocation)
    }

    static func rowCounts(_ pool: PGPool) async throws -> [String: Int] {
        // Table names are constants of this file, never input.
        let sql = tables.map { "SELECT '\($0)' AS name, count(*)::bigint AS rows FROM \($0)" }.joined(
            separator: " UNION ALL ")
        return try await pool.withConnection { connection in
            var counts: [String: Int] = [:]
            for row in try await connection.query(PGQuery(unsafeSQL: sql)) {
                counts[try row.decode("name", as: String.self)] = Int(try row.decode("rows", as: Int64.self))
            }
            return counts
        }
    }

    static func request(
        _ client: any TestClientProtocol, _ uri: String, headers: HTTPFields, body: [UInt8]
    ) async throws -> TestResponse {
        try await client.execute(uri: uri, method: .post, headers: headers, body: ByteBuffer(bytes: body))
    }

    static func field(_ name: String) -> HTTPField.Name {
        HTTPField.Name(name) ?? .authorization
    }
}

// MARK: - Stripe webhook

extension MalformedInputTests {
    typealias Stripe = StripeAppHarness

    static func stripeHeaders(contentType: String?, signature: String?) -> HTTPFields {
        var headers: HTTPFields = [:]
        if let contentType { headers[.contentType] = contentType }
        if let signature { headers[field("Stripe-Signature")] = signature }
        return headers
    }

    @Test func stripeUnsignedHostileBodiesAre400ProblemsAndWriteNothing() async throws {
        try await Stripe.with { app in
            let before = try await Self.rowCounts(app.pool)
            for body in Self.hostileBodies {
                for contentType in Self.contentTypes {
                    for signature in [nil, "", "t=1,v1=00", "garbage"] as [String?] {
                        let response = try await Self.request(
                            app.client, "/webhooks/stripe",
                            headers: Self.stripeHeaders(contentType: contentType, signature: signature),
                            body: body.bytes)
                        Self.expectProblem(
                            response, .badRequest, "\(body) / \(contentType ?? "no type") / \(signature ?? "no sig")")
                    }
                }
            }
            #expect(try await Self.rowCounts(app.pool) == before)
        }
    }

    @Test func stripeMalformedSignatureHeadersAre400ProblemsAndWriteNothing() async throws {
        try await Stripe.with { app in
            let user = try await app.user()
            let before = try await Self.rowCounts(app.pool)
            let now = FakeStripe.nowSeconds()
            let body = FakeStripe.invoicePaid(
                eventID: FakeStripe.newID("evt"), customer: FakeStripe.newID("cus"), userID: user, plan: Stripe.plan,
                periodStart: now, periodEnd: now + 30 * 86_400)
            let good = FakeStripe.signature(payload: body, secret: Stripe.secret, timestamp: now)
            let headers: [(String, String)] = [
                ("100 KB of v1", "t=\(now),v1=" + String(repeating: "a", count: 100_000)),
                ("100 KB of commas", "t=\(now)," + String(repeating: ",", count: 100_000) + "v1=00"),
                ("100 KB of t", "t=" + String(repeating: "9", count: 100_000) + ",v1=\(good)"),
                (
                    "10k bogus v1 entries",
                    "t=\(now),"
                        + Array(repeating: "v1=" + String(repeating: "0", count: 64), count: 10_000).joined(
                            separator: ",")
                ),
                ("t=1e400", "t=1e400,v1=\(good)"),
                ("t=2^64+1", "t=18446744073709551617,v1=\(good)"),
                ("t=2^63", "t=9223372036854775808,v1=\(good)"),
                ("t=Int64.max", "t=9223372036854775807,v1=\(good)"),
                ("t=-1", "t=-1,v1=\(good)"),
                ("t=-2^63", "t=-9223372036854775808,v1=\(good)"),
                ("t=0", "t=0,v1=\(FakeStripe.signature(payload: body, secret: Stripe.secret, timestamp: 0))"),
                (
                    "t far future, correctly signed",
                    "t=9223372036854775807,v1=\(FakeStripe.signature(payload: body, secret: Stripe.secret, timestamp: .max))"
                ),
                ("t=abc", "t=abc,v1=\(good)"),
                ("t empty", "t=,v1=\(good)"),
                ("t=now.5", "t=\(now).5,v1=\(good)"),
                ("t=0x", "t=0x\(String(now, radix: 16)),v1=\(good)"),
                ("t Arabic digits", "t=\u{0661}\u{0662}\u{0663},v1=\(good)"),
                ("t=NaN", "t=NaN,v1=\(good)"),
                ("first t wins", "t=1,t=\(now),v1=\(good)"),
                ("no t", "v1=\(good)"),
                ("no v1", "t=\(now)"),
                ("v0 only", "t=\(now),v0=\(good)"),
                ("uppercase v1", "t=\(now),v1=\(good.uppercased())"),
                ("odd-length v1", "t=\(now),v1=\(good.dropLast())"),
                ("non-hex v1", "t=\(now),v1=" + String(repeating: "zz", count: 32)),
                (
                    "v1 signed over another body",
                    "t=\(now),v1=\(FakeStripe.signature(payload: Data("{}".utf8), secret: Stripe.secret, timestamp: now))"
                ),
                ("only separators", ",,,,=,=,="),
                ("key without value", "t,v1"),
                ("unicode", "t=\(now),v1=\u{1F600}\u{202E}"),
                ("control character inside t", "t=\(now / 10)\u{1}\(now % 10),v1=\(good)"),
            ]
            for (name, signature) in headers {
                let response = try await Self.request(
                    app.client, "/webhooks/stripe",
                    headers: Self.stripeHeaders(contentType: "application/json", signature: signature),
                    body: Array(body))
                Self.expectProblem(response, .badRequest, name)
            }
            #expect(try await Self.rowCounts(app.pool) == before)
            #expect(try app.webhookCount("rejected") == Double(headers.count))
        }
    }

    @Test func stripeSignedHostileBodiesAreKeptRawAsDeadAndAnswered200() async throws {
        try await Stripe.with { app in
            let before = try await Self.rowCounts(app.pool)
            for body in Self.hostileBodies {
                let signature = FakeStripe.signedWebhook(
                    payload: body.data, secret: Stripe.secret, timestamp: FakeStripe.nowSeconds())
                let response = try await Self.request(
                    app.client, "/webhooks/stripe",
                    headers: Self.stripeHeaders(contentType: "application/json", signature: signature), body: body.bytes
                )
                #expect(response.status == .ok, "signed \(body)")
                #expect(response.body.getString(at: 0, length: response.body.readableBytes)?.contains("failed") == true)
            }
            try await Self.expectKeptRaw(app.pool, before: before, atMost: Self.hostileBodies.count)
        }
    }
}
