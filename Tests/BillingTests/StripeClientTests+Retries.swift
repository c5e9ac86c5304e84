import AsyncHTTPClient
import Billing
import Foundation
import Logging
import TestSupport
import Testing

extension StripeClientTests {
    @Test func stripeShouldRetryHeaderOverridesTheStatus() async throws {
        try await FakeStripe.with { stripe in
            let client = Self.client(stripe)
            stripe.inject(.error(status: 503, type: "api_error", message: "no", headers: ["Stripe-Should-Retry": "false"]))
            let refused = await Self.apiError { _ = try await client.createCustomer(idempotencyKey: "k-false") }
            #expect(refused?.kind == .api)
            #expect(refused?.httpStatus == 503)
            #expect(stripe.requests(path: "/v1/customers").count == 1)

            stripe.reset()
            stripe.inject(.error(status: 400, type: "invalid_request_error", message: "lock", headers: ["Stripe-Should-Retry": "true"]))
            let customer = try await client.createCustomer(idempotencyKey: "k-true")
            #expect(stripe.requests(path: "/v1/customers").map(\.status) == [400, 200])
            #expect(stripe.createdIDs(.customer) == [customer.id])
        }
    }

    @Test func retriesAreBounded() async throws {
        try await FakeStripe.with { stripe in
            stripe.inject(.serverError, count: 10)
            let error = await Self.apiError {
                _ = try await Self.client(stripe, maxAttempts: 3).createCustomer(idempotencyKey: "k-bounded")
            }
            #expect(error?.kind == .api)
            #expect(error?.attempts == 3)
            #expect(stripe.requests.count == 3)
        }
    }

    @Test func connectionErrorsAreRetriedThenReportedAsConnection() async throws {
        // A port nothing listens on: start a fake, note its port, stop it.
        let closedPort = try await FakeStripe.with { $0.port }
        try await FakeStripe.with { stripe in
            // AsyncHTTPClient keeps trying to connect until the attempt's deadline, so keep that short.
            let client = Self.client(
                stripe, baseURL: "http://127.0.0.1:\(closedPort)", maxAttempts: 2, timeout: .milliseconds(300))
            let error = await Self.apiError { _ = try await client.createCustomer(idempotencyKey: "k-conn") }
            #expect(error?.kind == .connection)
            #expect(error?.httpStatus == nil)
            #expect(error?.attempts == 2)
            #expect(error?.message?.isEmpty == false)
            #expect(error.map { !$0.description.contains(stripe.apiKey) } == true)
        }
    }

    @Test func aTimedOutAttemptRetriedWithTheSameKeyCreatesOneObject() async throws {
        try await FakeStripe.with { stripe in
            // The first attempt is held 8 s by the fake, far longer than the client waits (2 s); a retry goes
            // through. The margins are wide so that a busy machine cannot make every attempt time out.
            stripe.inject(.delay(.seconds(8)))
            let client = Self.client(stripe, maxAttempts: 4, timeout: .seconds(2))
            let customer = try await client.createCustomer(metadata: ["user_id": "8"], idempotencyKey: "customer-8")
            // Wait for the held request to finish on the fake's side: it finds the key used and replays.
            for _ in 0..<300 where !stripe.requests.contains(where: { $0.fault == "delay" }) {
                try await Task.sleep(for: .milliseconds(50))
            }
            let requests = stripe.requests(path: "/v1/customers")
            #expect(requests.contains { $0.fault == "delay" })
            #expect(requests.count >= 2)
            #expect(requests.allSatisfy { $0.idempotencyKey == "customer-8" })
            // However many attempts it took, exactly one executed; every other one got the stored answer.
            #expect(requests.filter { !$0.replayed }.count == 1)
            #expect(stripe.createdIDs(.customer) == [customer.id])
        }
    }

    @Test func reusingAKeyWithOtherParametersIsAnIdempotencyError() async throws {
        try await FakeStripe.with { stripe in
            let client = Self.client(stripe)
            _ = try await client.createCustomer(email: "a@b.c", idempotencyKey: "same-key")
            let error = await Self.apiError { _ = try await client.createCustomer(email: "x@y.z", idempotencyKey: "same-key") }
            #expect(error?.kind == .idempotency)
            #expect(error?.httpStatus == 400)
            #expect(stripe.requests.count == 2)
            #expect(stripe.createdIDs(.customer).count == 1)
        }
    }

    @Test func concurrentCallsWithOneKeyCreateOneCustomer() async throws {
        try await FakeStripe.with { stripe in
            let client = Self.client(stripe)
            let ids = try await withThrowingTaskGroup(of: String.self) { group in
                for _ in 0..<20 {
                    group.addTask {
                        try await client.createCustomer(metadata: ["user_id": "5"], idempotencyKey: "customer-5").id
                    }
                }
                return try await group.reduce(into: [String]()) { $0.append($1) }
            }
            #expect(ids.count == 20)
            #expect(Set(ids).count == 1)
            #expect(stripe.createdIDs(.customer).count == 1)
            #expect(stripe.requests.filter(\.replayed).count == 19)
        }
    }

    // MARK: Secrets

    @Test func theApiKeyNeverAppearsInErrorsOrDescriptions() async throws {
        try await FakeStripe.with { stripe in
            let key = stripe.apiKey
            let client = Self.client(stripe)
            stripe.inject(
                .error(status: 401, type: "invalid_request_error", message: "Invalid API Key provided: \(key)"))
            let echoed = try #require(await Self.apiError { _ = try await client.createCustomer(idempotencyKey: "k1") })
            #expect(echoed.kind == .authentication)
            #expect(stripe.requests.count == 1)

            let wrongKey = "sk_test_wrongKeyZZZ987654321"
            let unauthorized = try #require(
                await Self.apiError { _ = try await Self.client(stripe, apiKey: wrongKey).createCustomer(idempotencyKey: "k2") })
            #expect(unauthorized.kind == .authentication)
            #expect(unauthorized.httpStatus == 401)

            stripe.inject(.error(status: 500, type: "api_error", message: "boom for sk_live_abcdef123456 and \(key)"))
            let other = try #require(await Self.apiError { _ = try await client.createBillingPortalSession(customer: "cus_1") })

            for (error, secret) in [(echoed, key), (unauthorized, wrongKey), (other, key), (other, "sk_live_abcdef123456")] {
                for text in [error.description, String(reflecting: error), error.message ?? "", "\(error)"] {
                    #expect(!text.contains(secret), "\(text)")
                }
            }
            #expect(echoed.message?.contains("[redacted]") == true)
            for text in [client.configuration.description, String(reflecting: client.configuration)] {
                #expect(!text.contains(key))
            }
            var dumped = ""
            dump(client.configuration, to: &dumped)
            #expect(!dumped.contains(key))
        }
    }
}
