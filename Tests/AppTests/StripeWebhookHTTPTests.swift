import Foundation
import HTTPTypes
import HummingbirdTesting
import TestSupport
import Testing

@testable import App

@Suite struct StripeWebhookHTTPTests {
    typealias H = StripeAppHarness

    static func paid(_ user: Int64, eventID: String = FakeStripe.newID("evt"), customer: String = FakeStripe.newID("cus"))
        -> Data
    {
        let now = FakeStripe.nowSeconds()
        return FakeStripe.invoicePaid(
            eventID: eventID, customer: customer, userID: user, plan: H.plan, periodStart: now,
            periodEnd: now + 30 * 86_400)
    }

    @Test func validEventIsProcessedAndADuplicateChangesNothing() async throws {
        try await H.with { app in
            let user = try await app.user()
            let eventID = FakeStripe.newID("evt")
            let body = Self.paid(user, eventID: eventID)
            let first = try await app.deliver(body)
            #expect(first.status == .ok)
            #expect(first.json?["outcome"] as? String == "processed")
            #expect(first.json?["received"] as? Bool == true)
            #expect(first.headers[.contentType] == "application/json")
            // Signed with the previous secret (rotation), delivered again: a duplicate.
            let again = try await app.deliver(body, secret: H.oldSecret)
            #expect(again.status == .ok)
            #expect(again.json?["outcome"] as? String == "duplicate")
            #expect(try await app.count("SELECT count(*) FROM payment_events") == 1)
            #expect(try await app.count("SELECT count(*) FROM entitlement_changes") == 1)
            #expect(try app.webhookCount("processed") == 1)
            #expect(try app.webhookCount("duplicate") == 1)
        }
    }

    @Test func fiftyConcurrentDeliveriesOverHTTPApplyOnce() async throws {
        try await H.with { app in
            let user = try await app.user()
            let body = Self.paid(user)
            let statuses = try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                for _ in 0..<50 { group.addTask { try await app.deliver(body).status } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(statuses.allSatisfy { $0 == .ok })
            #expect(try await app.count("SELECT count(*) FROM payment_events") == 1)
            #expect(try await app.count("SELECT count(*) FROM entitlement_changes") == 1)
            #expect(try app.webhookCount("processed") == 1)
            #expect(try app.webhookCount("duplicate") == 49)
        }
    }

    @Test func badOrMissingSignatureIs400ProblemAndWritesNothing() async throws {
        try await H.with { app in
            let user = try await app.user()
            let body = Self.paid(user)
            let now = FakeStripe.nowSeconds()
            let cases: [(String, TestResponse)] = [
                ("missing", try await app.deliver(body, signature: .some(nil))),
                ("wrong secret", try await app.deliver(body, secret: "whsec_notOurs")),
                ("garbage", try await app.deliver(body, signature: "nonsense")),
                (
                    "tampered",
                    try await app.deliver(
                        body + Data(" ".utf8), signature: FakeStripe.signedWebhook(payload: body, secret: H.secret, timestamp: now))
                ),
                ("too old", try await app.deliver(body, timestamp: now - H.tolerance - 60)),
                ("future", try await app.deliver(body, timestamp: now + H.tolerance + 60)),
            ]
            for (name, response) in cases {
                #expect(response.status == .badRequest, "\(name)")
                #expect(response.headers[.contentType]?.hasPrefix("application/problem+json") == true, "\(name)")
                #expect(response.json?["status"] as? Int == 400, "\(name)")
            }
            #expect(try await app.count("SELECT count(*) FROM payment_events") == 0)
            #expect(try await app.count("SELECT count(*) FROM user_entitlements") == 0)
            #expect(try app.webhookCount("rejected") == Double(cases.count))
        }
    }

    @Test func validlySignedBadJSONIsKeptRawAsDeadAnd200() async throws {
        try await H.with { app in
            for body in [Data("{not json".utf8), Data(#"{"id":"evt_1","type":"invoice.paid"}"#.utf8), Data("[]".utf8)] {
                let response = try await app.deliver(body)
                #expect(response.status == .ok)
                #expect(response.json?["outcome"] as? String == "failed")
                // A redelivery of the same signed body is the same raw row.
                #expect(try await app.deliver(body).status == .ok)
            }
            #expect(try await app.count("SELECT count(*) FROM payment_events WHERE status = 'dead' AND raw_body IS NOT NULL") == 3)
            // The one whose id could be read is keyed by it.
            #expect(try await app.count("SELECT count(*) FROM payment_events WHERE event_id = 'evt_1'") == 1)
            #expect(try await app.count("SELECT count(*) FROM user_entitlements") == 0)
            #expect(try app.webhookCount("rejected") == 0)
            #expect(try app.webhookCount("failed") == 6)
        }
    }

    @Test func unknownEventTypeIs200AndStoredAsIgnored() async throws {
        try await H.with { app in
            let eventID = FakeStripe.newID("evt")
            let body = FakeStripe.event(id: eventID, type: "customer.created", object: ["id": "cus_1", "object": "customer"])
            let response = try await app.deliver(body)
            #expect(response.status == .ok)
            #expect(response.json?["outcome"] as? String == "ignored")
            #expect(try await app.status(eventID: eventID) == "ignored")
            #expect(try app.webhookCount("ignored") == 1)
        }
    }

    @Test func handlerFailureIsStoredFailedWith200AndTheAdminRetryProcessesIt() async throws {
        try await H.with { app in
            let user = try await app.user()
            let customer = FakeStripe.newID("cus")
            let eventID = FakeStripe.newID("evt")
            let now = FakeStripe.nowSeconds()
            let body = FakeStripe.invoicePaid(
                eventID: eventID, customer: customer, userID: nil, plan: nil, periodStart: now, periodEnd: now + 86_400)
            let response = try await app.deliver(body)
            #expect(response.status == .ok)
            #expect(response.json?["outcome"] as? String == "failed")
            #expect(try await app.status(eventID: eventID) == "failed")
            #expect(try app.webhookCount("failed") == 1)
            let id = try #require(try await app.ledgerID(eventID: eventID))

            #expect(try await app.retry("\(id)", token: nil).status == .unauthorized)
            #expect(try await app.retry("\(id)", token: "wrong-token-of-some-length-0000").status == .unauthorized)
            #expect(try await app.status(eventID: eventID) == "failed")
            #expect(try await app.retry("999999").status == .notFound)
            #expect(try await app.retry("abc").status == .notFound)

            // Still unlinked: retried, failed again.
            let again = try await app.retry("\(id)")
            #expect(again.status == .ok)
            #expect(again.json?["outcome"] as? String == "failed")

            _ = try await app.pool.withConnection { connection in
                try await connection.execute("INSERT INTO stripe_customers (user_id, customer_id) VALUES (\(user), \(customer))")
            }
            let retried = try await app.retry("\(id)")
            #expect(retried.status == .ok)
            #expect(retried.json?["outcome"] as? String == "processed")
            #expect((retried.json?["id"] as? NSNumber)?.int64Value == id)
            #expect(try await app.status(eventID: eventID) == "processed")
            #expect(try await app.count("SELECT count(*) FROM user_entitlements WHERE user_id = \(user) AND status = 'active'") == 1)

            let processed = try await app.retry("\(id)")
            #expect(processed.status == .conflict)
            #expect(processed.headers[.contentType]?.hasPrefix("application/problem+json") == true)
            #expect(try await app.count("SELECT count(*) FROM entitlement_changes") == 1)
        }
    }
}
