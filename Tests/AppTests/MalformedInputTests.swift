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

// MARK: - Telegram webhook

extension MalformedInputTests {
    typealias Telegram = TelegramAppHarness

    static func telegramHeaders(contentType: String?, secret: String?) -> HTTPFields {
        var headers: HTTPFields = [:]
        if let contentType { headers[.contentType] = contentType }
        if let secret { headers[field("X-Telegram-Bot-Api-Secret-Token")] = secret }
        return headers
    }

    @Test func telegramHostileBodiesWithoutTheSecretAre401ProblemsAndWriteNothing() async throws {
        try await Telegram.with { app in
            let before = try await Self.rowCounts(app.pool)
            let secrets: [String?] = [
                nil, "", "wrong", Telegram.webhookSecret + "x", String(Telegram.webhookSecret.dropLast()),
                Telegram.webhookSecret.uppercased(), "x" + Telegram.webhookSecret,
                String(repeating: "s", count: 100_000),
            ]
            for body in Self.hostileBodies {
                for contentType in Self.contentTypes {
                    for secret in secrets {
                        let response = try await Self.request(
                            app.client, "/webhooks/telegram",
                            headers: Self.telegramHeaders(contentType: contentType, secret: secret), body: body.bytes)
                        Self.expectProblem(
                            response, .unauthorized,
                            "\(body) / \(contentType ?? "no type") / \(secret?.prefix(20) ?? "no secret")")
                    }
                }
            }
            #expect(try await Self.rowCounts(app.pool) == before)
            #expect(app.fake.calls().isEmpty)
        }
    }

    @Test func telegramHostileBodiesWithTheSecretAreKeptRawAsDeadAndAnswered200() async throws {
        try await Telegram.with { app in
            let before = try await Self.rowCounts(app.pool)
            for body in Self.hostileBodies where body.updateID == nil {
                for contentType in Self.contentTypes {
                    let response = try await Self.request(
                        app.client, "/webhooks/telegram",
                        headers: Self.telegramHeaders(contentType: contentType, secret: Telegram.webhookSecret),
                        body: body.bytes)
                    #expect(response.status == .ok, "\(body) / \(contentType ?? "no type")")
                }
            }
            try await Self.expectKeptRaw(app.pool, before: before, atMost: Self.hostileBodies.count)
            #expect(app.fake.calls().isEmpty)
        }
    }

    /// Bodies that are (leniently) updates of an unknown kind: 200 whatever the content type, one row each in
    /// `telegram_updates` (later copies are duplicates), nothing else.
    @Test func telegramUpdateShapedHostileBodiesAreAcceptedOnceAndOnlyLogged() async throws {
        try await Telegram.with { app in
            var expected = try await Self.rowCounts(app.pool)
            for body in Self.hostileBodies {
                guard let updateID = body.updateID else { continue }
                for contentType in Self.contentTypes {
                    let response = try await Self.request(
                        app.client, "/webhooks/telegram",
                        headers: Self.telegramHeaders(contentType: contentType, secret: Telegram.webhookSecret),
                        body: body.bytes)
                    #expect(
                        response.status == .ok, "\(body) / \(contentType ?? "no type"): \(response.text.prefix(200))")
                }
                expected["telegram_updates", default: 0] += 1
                #expect(
                    try await app.count("SELECT count(*) FROM telegram_updates WHERE update_id = \(updateID)") == 1,
                    "\(body)")
            }
            #expect(try await Self.rowCounts(app.pool) == expected)
            #expect(app.fake.calls().isEmpty)
        }
    }

    /// Update-shaped bodies whose known parts are malformed: 400, nothing written, nothing sent to Telegram.
    @Test func telegramMalformedUpdatesAreKeptRawAsDeadAndAnswered200() async throws {
        try await Telegram.with { app in
            let before = try await Self.rowCounts(app.pool)
            let user = TelegramUpdates.user(TelegramUpdates.buyer)
            let bodies: [Body] = [
                Body(
                    "update_id 1e400",
                    #"{"update_id":1e400,"message":{"message_id":1,"date":1,"chat":{"id":1,"type":"private"},"text":"/start"}}"#
                ),
                Body("update_id 2^64+1", #"{"update_id":18446744073709551617}"#),
                Body("update_id 2^63", #"{"update_id":9223372036854775808}"#),
                Body("update_id 1.5", #"{"update_id":1.5}"#),
                Body("update_id string", #"{"update_id":"1"}"#),
                Body("update_id null", #"{"update_id":null}"#),
                Body(
                    "no update_id",
                    #"{"message":{"message_id":1,"date":1,"chat":{"id":1,"type":"private"},"text":"/start"}}"#),
                Body("message is a string", #"{"update_id":10,"message":"hi"}"#),
                Body(
                    "chat id 2^64+1",
                    #"{"update_id":11,"message":{"message_id":1,"date":1,"chat":{"id":18446744073709551617,"type":"private"},"from":\#(user),"text":"/start"}}"#
                ),
                Body(
                    "from id 1e400",
                    #"{"update_id":12,"message":{"message_id":1,"date":1,"chat":{"id":1,"type":"private"},"from":{"id":1e400,"is_bot":false,"first_name":"A"},"text":"/start"}}"#
                ),
                Body(
                    "total_amount 2^64+1",
                    #"{"update_id":13,"pre_checkout_query":{"id":"q","from":\#(user),"currency":"XTR","total_amount":18446744073709551617,"invoice_payload":"p"}}"#
                ),
                Body(
                    "total_amount 1e400",
                    #"{"update_id":14,"message":{"message_id":1,"date":1,"chat":{"id":1,"type":"private"},"from":\#(user),"successful_payment":{"currency":"XTR","total_amount":1e400,"invoice_payload":"p","telegram_payment_charge_id":"c1","provider_payment_charge_id":""}}}"#
                ),
                Body(
                    "pre_checkout_query without from",
                    #"{"update_id":15,"pre_checkout_query":{"id":"q","currency":"XTR","total_amount":50,"invoice_payload":"p"}}"#
                ),
                Body(
                    "nested 10k deep in message", #"{"update_id":16,"message":"# + String(repeating: "[", count: 10_000)
                ),
            ]
            for body in bodies {
                let response = try await app.postUpdate(String(decoding: body.bytes, as: UTF8.self))
                #expect(response.status == .ok, "\(body)")
            }
            try await Self.expectKeptRaw(app.pool, before: before, atMost: bodies.count)
            // Where the update id could be read, the raw row is keyed by it.
            #expect(try await app.count("SELECT count(*) FROM payment_events WHERE event_id = 'update:10'") == 1)
            #expect(app.fake.calls().isEmpty)
        }
    }
}

// MARK: - Authentic deliveries carrying values PostgreSQL cannot store

extension MalformedInputTests {
    /// A validly signed event of an unhandled type around `extra` (`data.object.x`).
    static func unknownEvent(id: String, extra: String, created: String = "\(FakeStripe.nowSeconds())") -> String {
        #"""
        {"id":"\#(id)","object":"event","type":"customer.created","created":\#(created),"livemode":false,\#
        "api_version":"2024-06-20","data":{"object":{"id":"cus_1","object":"customer","x":\#(extra)}}}
        """#
    }

    func deliverSigned(_ app: Stripe, _ body: Body) async throws -> TestResponse {
        let signature = FakeStripe.signedWebhook(
            payload: body.data, secret: Stripe.secret, timestamp: FakeStripe.nowSeconds())
        return try await Self.request(
            app.client, "/webhooks/stripe",
            headers: Self.stripeHeaders(contentType: "application/json", signature: signature),
            body: body.bytes)
    }

    /// Found by these tests: a `\u0000` anywhere in the JSON (jsonb refuses it) or an event id too long for the
    /// ledger's unique index made the server answer 503 forever, so Stripe would have retried for days. Now 400.
    @Test func stripeSignedEventsWithUnstorableValuesAreKeptRawAsDead() async throws {
        try await Stripe.with { app in
            let user = try await app.user()
            let now = FakeStripe.nowSeconds()
            let paid = String(
                decoding: FakeStripe.invoicePaid(
                    eventID: "evt_template", customer: "cus_template", userID: user, plan: Stripe.plan,
                    periodStart: now,
                    periodEnd: now + 30 * 86_400),
                as: UTF8.self)
            let before = try await Self.rowCounts(app.pool)
            let bodies = [
                Body("escaped NUL in the object", Self.unknownEvent(id: "evt_nul1", extra: #""a\u0000b""#)),
                Body("escaped NUL in the id", Self.unknownEvent(id: #"evt_\u0000"#, extra: "1")),
                Body("100 KB id", Self.unknownEvent(id: "evt_" + String(repeating: "x", count: 100_000), extra: "1")),
                Body(
                    "handled type with NUL in the customer",
                    paid.replacingOccurrences(of: "cus_template", with: #"cus_\u0000"#)
                        .replacingOccurrences(of: "evt_template", with: "evt_nul2")),
            ]
            for body in bodies {
                #expect(try await deliverSigned(app, body).status == .ok, "\(body)")
            }
            try await Self.expectKeptRaw(app.pool, before: before, atMost: bodies.count)
            #expect(try app.webhookCount("rejected") == 0)
            #expect(try app.webhookCount("failed") == Double(bodies.count))
            // Byte for byte: the signed body that jsonb could not hold is the one stored.
            let stored = try await app.pool.withConnection { connection in
                try await connection.query("SELECT raw_body FROM payment_events WHERE event_id = 'evt_nul2'").first?
                    .decode("raw_body", as: Data.self)
            }
            #expect(stored.map { Array($0) } == bodies[3].bytes)
        }
    }

    /// Numbers out of range, lone surrogates and nesting beyond the decoder's limit in authentic events: 400 and
    /// nothing written; an amount that does not fit the model is kept once as `failed` (retryable), never a 5xx.
    @Test func stripeSignedEventsWithOutOfRangeValuesNeverGet5xx() async throws {
        try await Stripe.with { app in
            let user = try await app.user()
            let now = FakeStripe.nowSeconds()
            let before = try await Self.rowCounts(app.pool)
            let bodies = [
                Body("lone surrogate in the object", Self.unknownEvent(id: "evt_s1", extra: #""\ud800""#)),
                Body("lone surrogate in the id", Self.unknownEvent(id: #"evt_\udfff"#, extra: "1")),
                Body("1e1000000 in the object", Self.unknownEvent(id: "evt_n1", extra: "1e1000000")),
                Body("-1e1000000 in the object", Self.unknownEvent(id: "evt_n2", extra: "-1e1000000")),
                Body("1e400 in the object", Self.unknownEvent(id: "evt_n3", extra: "1e400")),
                Body("created 1e400", Self.unknownEvent(id: "evt_c1", extra: "1", created: "1e400")),
                Body("created 2^64+1", Self.unknownEvent(id: "evt_c2", extra: "1", created: "18446744073709551617")),
                Body("created 1.5", Self.unknownEvent(id: "evt_c3", extra: "1", created: "1.5")),
                Body(
                    "600 nested arrays",
                    Self.unknownEvent(
                        id: "evt_d1", extra: String(repeating: "[", count: 600) + String(repeating: "]", count: 600))),
                Body("empty id", Self.unknownEvent(id: "", extra: "1")),
            ]
            for body in bodies {
                let response = try await deliverSigned(app, body)
                #expect(response.status == .ok, "\(body)")
                #expect(response.json?["outcome"] as? String == "failed", "\(body)")
            }
            try await Self.expectKeptRaw(app.pool, before: before, atMost: bodies.count)

            let paid = String(
                decoding: FakeStripe.invoicePaid(
                    eventID: "evt_amount_overflow", userID: user, plan: Stripe.plan, periodStart: now,
                    periodEnd: now + 30 * 86_400, amount: 424_242),
                as: UTF8.self
            ).replacingOccurrences(of: "424242", with: "18446744073709551617")
            let response = try await deliverSigned(app, Body("amount 2^64+1", paid))
            #expect(response.status == .ok, "\(response.text)")
            #expect(response.json?["outcome"] as? String == "failed")
            #expect(try await app.status(eventID: "evt_amount_overflow") == "failed")
            #expect(try await app.count("SELECT count(*) FROM user_entitlements") == 0)
        }
    }

    /// Found by these tests and by scripts/fuzz: updates carrying values the tables refuse (a user id of 0 or below, a
    /// 5,000-character first name, an empty or 100 KB charge id, a `\u0000` in a payment update that must be kept as
    /// dead) answered 500. Now 400, with nothing written and nothing sent to Telegram.
    @Test func telegramUpdatesWithUnstorableValuesAreKeptRawAsDead() async throws {
        try await Telegram.with { app in
            let payload = try app.signer.make(plan: Telegram.plan, telegramUserID: TelegramUpdates.buyer)
            let longName = #""first_name":"\#(String(repeating: "A", count: 5_000))","username""#
            let nulName = #""first_name":"A\u0000","username""#
            let before = try await Self.rowCounts(app.pool)
            let bodies: [(String, String)] = [
                ("user id 0", TelegramUpdates.text(updateID: 201, telegramID: 0, "/status")),
                ("user id -5", TelegramUpdates.text(updateID: 202, telegramID: -5, "/buy")),
                (
                    "5,000-character first name",
                    TelegramUpdates.text(updateID: 203, "/status")
                        .replacingOccurrences(of: #""first_name":"Ada","username""#, with: longName)
                ),
                (
                    "100 KB charge id",
                    TelegramUpdates.successfulPayment(
                        updateID: 204, charge: String(repeating: "c", count: 100_000), payload: payload)
                ),
                (
                    "100 KB refund charge id",
                    TelegramUpdates.refundedPayment(updateID: 205, charge: String(repeating: "r", count: 100_000))
                ),
                // schemathesis found the empty one (payment_events_event_id_length is 1-255).
                ("empty charge id", TelegramUpdates.successfulPayment(updateID: 208, charge: "", payload: payload)),
                (
                    "empty charge id, unverifiable payload",
                    TelegramUpdates.successfulPayment(updateID: 209, charge: "", payload: "x")
                ),
                (
                    "NUL in an unverifiable payload",
                    TelegramUpdates.successfulPayment(updateID: 206, charge: "ch206", payload: "p\u{0}")
                ),
                (
                    "NUL in the payer's name",
                    TelegramUpdates.successfulPayment(updateID: 207, charge: "ch207", payload: payload)
                        .replacingOccurrences(of: #""first_name":"Ada","username""#, with: nulName)
                ),
            ]
            for (name, body) in bodies {
                #expect(try await app.postUpdate(body).status == .ok, "\(name)")
            }
            try await Self.expectKeptRaw(app.pool, before: before, atMost: bodies.count)
            #expect(try await app.count("SELECT count(*) FROM payment_events WHERE event_id = 'update:207'") == 1)
            #expect(app.fake.calls().isEmpty)
        }
    }
}

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
                        body.bytes.count > BodyLimitMiddleware.smallBodyBytes ? .contentTooLarge
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
