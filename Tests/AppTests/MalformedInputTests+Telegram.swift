import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import PGClient
import TestSupport
import Testing

@testable import App

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
