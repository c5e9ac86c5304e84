import Foundation
import HTTPTypes
import HummingbirdTesting
import TestSupport
import Testing

@testable import App

/// The admin API's entitlement and ledger routes over the real application and a real database.
@Suite struct AdminEntitlementTests {
    typealias Harness = TelegramAppHarness

    @Test func everyAdminRouteIs401WithoutOrWithAWrongToken() async throws {
        try await Harness.with { app in
            let requests: [(HTTPRequest.Method, String, String?)] = [
                (.post, "/admin/v1/entitlements", #"{"telegram_id":777,"plan":"boost_week","days":3}"#),
                (.delete, "/admin/v1/entitlements", #"{"telegram_id":777,"plan":"boost_week"}"#),
                (.get, "/admin/v1/payment-events", nil),
                (.post, "/admin/v1/telegram/refunds", #"{"telegram_payment_charge_id":"ch"}"#),
                // Methods and paths the admin API does not have: 401 too, never 404/405 before authentication.
                (.get, "/admin/v1/entitlements", nil),
                (.put, "/admin/v1/payment-events", nil),
                (.get, "/admin/v1/no-such-route", nil),
                (.post, "/admin/v1/marketing/scheduler/pause", nil),
            ]
            let tokens: [String?] = [nil, "wrong", Harness.adminToken + "x", String(Harness.adminToken.dropLast())]
            for (method, uri, json) in requests {
                for token in tokens {
                    let response = try await app.admin(method, uri, json: json, token: token)
                    #expect(response.status == .unauthorized, "\(method) \(uri) token \(token ?? "none")")
                    #expect(response.headers[.contentType] == "application/problem+json")
                    #expect(!response.text.contains(Harness.adminToken))
                }
            }
            // Not a bearer scheme at all.
            let basic = try await app.client.execute(
                uri: "/admin/v1/payment-events", method: .get, headers: [.authorization: "Basic \(Harness.adminToken)"])
            #expect(basic.status == .unauthorized)
            #expect(try await app.count("SELECT count(*) FROM users") == 0)
            #expect(try await app.count("SELECT count(*) FROM entitlement_changes") == 0)
        }
    }

    @Test func withTheTokenAnUnknownMethodIs405AndAnUnknownPathIs404() async throws {
        try await Harness.with { app in
            let wrongMethod = try await app.admin(.get, "/admin/v1/entitlements")
            #expect(wrongMethod.status == .methodNotAllowed)
            #expect(wrongMethod.headers[.allow]?.contains("POST") == true)
            let unknown = try await app.admin(.get, "/admin/v1/no-such-route")
            #expect(unknown.status == .notFound)
        }
    }

    @Test func withoutAnAdminTokenTheAdminAPIDoesNotExist() async throws {
        try await Harness.with(adminToken: nil) { app in
            let response = try await app.admin(
                .post, "/admin/v1/entitlements", json: #"{"telegram_id":777,"plan":"boost_week","days":3}"#,
                token: "anything")
            #expect(response.status == .notFound)
            #expect(try await app.count("SELECT count(*) FROM users") == 0)
        }
    }

    @Test func aGrantByTelegramIDCreatesTheUserAndAnAdminAuditRow() async throws {
        try await Harness.with { app in
            let response = try await app.admin(
                .post, "/admin/v1/entitlements", json: #"{"telegram_id":777,"plan":"boost_week","days":10}"#)
            #expect(response.status == .ok)
            let json = try #require(response.json)
            #expect(json["plan"] as? String == "boost_week")
            #expect(json["status"] as? String == "active")
            let expiresAt = try #require((json["expires_at"] as? String).flatMap { try? Date($0, strategy: .iso8601) })
            #expect(abs(expiresAt.timeIntervalSinceNow - 10 * 86_400) < 120)
            #expect(try await app.count("SELECT count(*) FROM users WHERE telegram_user_id = 777") == 1)
            #expect(
                try await app.count(
                    """
                    SELECT count(*) FROM entitlement_changes c JOIN users u ON u.id = c.user_id
                    WHERE u.telegram_user_id = 777 AND c.actor = 'admin' AND c.plan = 'boost_week'
                      AND c.after_status = 'active'
                    """) == 1)
            #expect(
                try await app.count("SELECT count(*) FROM user_entitlements WHERE source = 'admin' AND status = 'active'")
                    == 1)
            // A second grant, by user id this time, extends the same entitlement and is audited too.
            let userID = try #require(json["user_id"] as? Int)
            let again = try await app.admin(
                .post, "/admin/v1/entitlements", json: #"{"user_id":\#(userID),"plan":"boost_week","days":5}"#)
            #expect(again.status == .ok)
            let extended = try #require((again.json?["expires_at"] as? String).flatMap { try? Date($0, strategy: .iso8601) })
            #expect(abs(extended.timeIntervalSince(expiresAt) - 5 * 86_400) < 2)
            #expect(try await app.count("SELECT count(*) FROM entitlement_changes WHERE actor = 'admin'") == 2)
            #expect(try await app.count("SELECT count(*) FROM users") == 1)
        }
    }

    @Test func aGrantWithABadPlanOrDaysIsRefusedWithoutWriting() async throws {
        try await Harness.with { app in
            let unknownPlan = try await app.admin(
                .post, "/admin/v1/entitlements", json: #"{"telegram_id":777,"plan":"nope","days":3}"#)
            #expect(unknownPlan.status == .unprocessableContent)
            let badDays = try await app.admin(
                .post, "/admin/v1/entitlements", json: #"{"telegram_id":777,"plan":"boost_week","days":0}"#)
            #expect(badDays.status == .badRequest)
            let both = try await app.admin(
                .post, "/admin/v1/entitlements", json: #"{"telegram_id":777,"user_id":1,"plan":"boost_week","days":3}"#)
            #expect(both.status == .badRequest)
            let unknownUser = try await app.admin(
                .post, "/admin/v1/entitlements", json: #"{"user_id":999999,"plan":"boost_week","days":3}"#)
            #expect(unknownUser.status == .notFound)
            #expect(try await app.count("SELECT count(*) FROM entitlement_changes") == 0)
            #expect(try await app.count("SELECT count(*) FROM users") == 0)
        }
    }

    @Test func aRevokeMarksTheEntitlementRevokedWithAnAdminAuditRow() async throws {
        try await Harness.with { app in
            let grant = try await app.admin(
                .post, "/admin/v1/entitlements", json: #"{"telegram_id":888,"plan":"boost_week","days":30}"#)
            #expect(grant.status == .ok)
            let revoke = try await app.admin(
                .delete, "/admin/v1/entitlements", json: #"{"telegram_id":888,"plan":"boost_week","reason":"abuse"}"#)
            #expect(revoke.status == .ok)
            #expect(revoke.json?["status"] as? String == "revoked")
            #expect(revoke.json?["changed"] as? Bool == true)
            #expect(
                try await app.count(
                    """
                    SELECT count(*) FROM entitlement_changes
                    WHERE action = 'revoke' AND actor = 'admin' AND reason = 'abuse' AND after_status = 'revoked'
                    """) == 1)
            #expect(try await app.count("SELECT count(*) FROM user_entitlements WHERE status = 'revoked'") == 1)
            // Revoking again changes nothing and writes no audit row.
            let again = try await app.admin(
                .delete, "/admin/v1/entitlements", json: #"{"telegram_id":888,"plan":"boost_week"}"#)
            #expect(again.status == .ok)
            #expect(again.json?["changed"] as? Bool == false)
            #expect(try await app.count("SELECT count(*) FROM entitlement_changes WHERE action = 'revoke'") == 1)
            // Unknown users and users without the plan are 404.
            let stranger = try await app.admin(
                .delete, "/admin/v1/entitlements", json: #"{"telegram_id":999,"plan":"boost_week"}"#)
            #expect(stranger.status == .notFound)
            let otherPlan = try await app.admin(
                .delete, "/admin/v1/entitlements", json: #"{"telegram_id":888,"plan":"stripe_only"}"#)
            #expect(otherPlan.status == .notFound)
            #expect(try await app.count("SELECT count(*) FROM users WHERE telegram_user_id = 999") == 0)
        }
    }

    @Test func paymentEventsAreListedNewestFirstAndFilteredByStatusAndProvider() async throws {
        try await Harness.with { app in
            _ = try await app.pool.withConnection { connection in
                try await connection.execute(
                    """
                    INSERT INTO payment_events (provider, event_id, event_type, status, payload, next_attempt_at,
                        last_error, received_at) VALUES
                    ('stripe', 'evt_ok', 'invoice.paid', 'processed', '{}', NULL, NULL, now() - interval '4 min'),
                    ('stripe', 'evt_bad', 'invoice.paid', 'failed', '{}', now(), 'boom', now() - interval '3 min'),
                    ('telegram_stars', 'ch_ok', 'successful_payment', 'processed', '{}', NULL, NULL,
                        now() - interval '2 min'),
                    ('telegram_stars', 'ch_dead', 'successful_payment', 'dead', '{}', NULL, 'bad payload',
                        now() - interval '1 min')
                    """)
            }
            func eventIDs(_ query: String) async throws -> [String] {
                let response = try await app.admin(.get, "/admin/v1/payment-events" + query)
                #expect(response.status == .ok, "\(query)")
                let events = response.json?["events"] as? [[String: Any]] ?? []
                return events.compactMap { $0["event_id"] as? String }
            }
            #expect(try await eventIDs("") == ["ch_dead", "ch_ok", "evt_bad", "evt_ok"])
            #expect(try await eventIDs("?status=failed") == ["evt_bad"])
            #expect(try await eventIDs("?provider=telegram_stars") == ["ch_dead", "ch_ok"])
            #expect(try await eventIDs("?provider=stripe&status=processed") == ["evt_ok"])
            #expect(try await eventIDs("?provider=telegram_stars&status=dead") == ["ch_dead"])
            #expect(try await eventIDs("?limit=1") == ["ch_dead"])

            let full = try await app.admin(.get, "/admin/v1/payment-events?status=dead")
            let event = try #require((full.json?["events"] as? [[String: Any]])?.first)
            #expect(event["provider"] as? String == "telegram_stars")
            #expect(event["event_type"] as? String == "successful_payment")
            #expect(event["status"] as? String == "dead")
            #expect(event["error"] as? String == "bad payload")
            #expect(event["id"] is Int)
            #expect((event["received_at"] as? String).flatMap { try? Date($0, strategy: .iso8601) } != nil)
            // A processed event has no error, and the key is still there, as null.
            let processed = try await app.admin(.get, "/admin/v1/payment-events?provider=stripe&status=processed")
            let okEvent = try #require((processed.json?["events"] as? [[String: Any]])?.first)
            #expect(okEvent.keys.contains("error"))
            #expect(okEvent["error"] is NSNull)

            for bad in ["?status=bogus", "?provider=paypal", "?limit=0"] {
                let response = try await app.admin(.get, "/admin/v1/payment-events" + bad)
                #expect(response.status == .badRequest, "\(bad)")
                #expect(response.headers[.contentType] == "application/problem+json")
            }
        }
    }
}
