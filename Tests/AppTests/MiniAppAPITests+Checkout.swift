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

extension MiniAppAPITests {
    @Test func invoiceLimitAndCursorAreValidated() async throws {
        try await MiniAppAppHarness.with { harness in
            let signedIn = try await harness.signIn(telegramID: Self.telegramID)
            for query in [
                "limit=0", "limit=101", "limit=-1", "limit=abc", "cursor=***", "cursor=bm90LWEtY3Vyc29y",
                "cursor=" + String(repeating: "A", count: 200), "cursor=MTIz",
            ] {
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
