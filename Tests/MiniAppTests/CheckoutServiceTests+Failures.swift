import AsyncHTTPClient
import Billing
import Foundation
import Logging
import MiniApp
import PGClient
import Telegram
import TestSupport
import Testing

extension CheckoutServiceTests {
    /// Checkouts with different keys at once for one user: one Stripe customer object, one link row, and every
    /// session names it.
    @Test func theStripeCustomerIsCreatedOncePerUserEvenUnderConcurrentKeys() async throws {
        try await Self.with(poolSize: 10) { world in
            world.stripe.inject(.delay(.milliseconds(200)), path: Self.customersPath)
            let urls = try await withThrowingTaskGroup(of: String.self) { group in
                for index in 0..<6 {
                    group.addTask { try await world.checkout("premium_monthly", .stripe, key: "k-\(index)").result.url }
                }
                return try await group.reduce(into: [String]()) { $0.append($1) }
            }
            #expect(Set(urls).count == 6)
            let customers = world.stripe.createdIDs(.customer)
            #expect(customers.count == 1)
            let customer = try #require(customers.first)
            let customerRequests = world.stripe.requests(path: Self.customersPath)
            #expect(Set(customerRequests.compactMap(\.idempotencyKey)).count == 1)
            #expect(customerRequests.allSatisfy { $0.form["metadata[user_id]"] == String(world.userID) })
            let sessions = world.stripe.requests(path: Self.sessionsPath)
            #expect(sessions.count == 6)
            #expect(sessions.allSatisfy { $0.form["customer"] == customer })
            #expect(try await world.count("SELECT count(*) FROM stripe_customers WHERE user_id = \(world.userID)") == 1)

            // Later checkouts read the link row and do not ask Stripe again.
            let before = customerRequests.count
            _ = try await world.checkout("card_year", .stripe, key: "later")
            #expect(world.stripe.requests(path: Self.customersPath).count == before)
            #expect(world.stripe.requests(path: Self.sessionsPath).last?.form["customer"] == customer)
        }
    }

    // MARK: Failures

    /// Stripe answering 500 to every attempt: `providerFailed`, the key is released, and a retry with the same key
    /// goes through (with the same Stripe idempotency key).
    @Test func providerFailureReleasesTheKeyForARetry() async throws {
        try await Self.with { world in
            world.stripe.inject(.serverError, count: Self.stripeRetry.maxAttempts, path: Self.sessionsPath)
            await #expect(throws: CheckoutError.providerFailed(.stripe)) {
                try await world.checkout("premium_monthly", .stripe, key: "flaky")
            }
            let failed = world.stripe.requests(path: Self.sessionsPath)
            #expect(failed.count == Self.stripeRetry.maxAttempts)
            #expect(failed.allSatisfy { $0.status == 500 })
            #expect(
                try await world.count(
                    "SELECT count(*) FROM idempotency_keys WHERE locked_at IS NULL AND recovery_point = 'started'") == 1)

            let retry = try await world.checkout("premium_monthly", .stripe, key: "flaky")
            #expect(retry.replayed == false)
            #expect(retry.result.url.hasPrefix("https://checkout.stripe.com/"))
            let all = world.stripe.requests(path: Self.sessionsPath)
            #expect(all.count == Self.stripeRetry.maxAttempts + 1)
            #expect(Set(all.compactMap(\.idempotencyKey)).count == 1)
            #expect(world.stripe.createdIDs(.checkoutSession).count == 1)
            let replay = try await world.checkout("premium_monthly", .stripe, key: "flaky")
            #expect(replay.replayed)
            #expect(replay.result == retry.result)
        }
    }

    @Test func botAPIFailureReleasesTheKeyForARetry() async throws {
        try await Self.with { world in
            world.bot.inject(.serverError(status: 502), method: "createInvoiceLink", times: Self.botRetry.maxAttempts)
            await #expect(throws: CheckoutError.providerFailed(.telegramStars)) {
                try await world.checkout("boost_week", .telegramStars, key: "stars-flaky")
            }
            #expect(world.bot.callCount("createInvoiceLink") == Self.botRetry.maxAttempts)
            let retry = try await world.checkout("boost_week", .telegramStars, key: "stars-flaky")
            #expect(retry.replayed == false)
            #expect(retry.result.url.hasPrefix("https://t.me/$"))
            #expect(world.bot.callCount("createInvoiceLink") == Self.botRetry.maxAttempts + 1)
        }
    }

    // MARK: What cannot be sold

    @Test func plansAProviderCannotSellAreRefusedWithoutCallsOrKeys() async throws {
        try await Self.with { world in
            await #expect(throws: CheckoutError.notSellable(plan: "boost_week", provider: .stripe)) {
                try await world.checkout("boost_week", .stripe, key: "n1")
            }
            await #expect(throws: CheckoutError.notSellable(plan: "card_year", provider: .telegramStars)) {
                try await world.checkout("card_year", .telegramStars, key: "n2")
            }
            await #expect(throws: CheckoutError.unknownPlan("retired")) {
                try await world.checkout("retired", .stripe, key: "n3")
            }
            await #expect(throws: CheckoutError.unknownPlan("no_such_plan")) {
                try await world.checkout("no_such_plan", .telegramStars, key: "n4")
            }
            #expect(world.stripe.requests.isEmpty)
            #expect(world.bot.callCount("createInvoiceLink") == 0)
            #expect(try await world.count("SELECT count(*) FROM idempotency_keys") == 0)
            // The refused key was not consumed: it can be used for a sellable request.
            let ok = try await world.checkout("boost_week", .telegramStars, key: "n1")
            #expect(ok.replayed == false)
        }
    }

    @Test func withoutAStripeKeyStripePlansAreNotSellable() async throws {
        try await Self.with(stripeConfigured: false) { world in
            await #expect(throws: CheckoutError.notSellable(plan: "premium_monthly", provider: .stripe)) {
                try await world.checkout("premium_monthly", .stripe, key: "no-stripe")
            }
            await #expect(throws: CheckoutError.noStripeCustomer) {
                try await world.service.portalURL(userID: world.userID)
            }
            #expect(world.stripe.requests.isEmpty)
        }
    }

    // MARK: URLs

    @Test func successCancelAndReturnURLsStartWithThePublicBaseURL() async throws {
        try await Self.with { world in
            await #expect(throws: CheckoutError.noStripeCustomer) {
                try await world.service.portalURL(userID: world.userID)
            }
            _ = try await world.checkout("premium_monthly", .stripe, key: "urls")
            let session = try #require(world.stripe.requests(path: Self.sessionsPath).first)
            let success = try #require(session.form["success_url"])
            let cancel = try #require(session.form["cancel_url"])
            #expect(success.hasPrefix(Self.publicBaseURL + "/"))
            #expect(cancel.hasPrefix(Self.publicBaseURL + "/"))
            #expect(success.contains("{CHECKOUT_SESSION_ID}"))

            let portal = try await world.service.portalURL(userID: world.userID)
            #expect(portal.hasPrefix("https://billing.stripe.com/"))
            let portalRequest = try #require(world.stripe.requests(path: "/v1/billing_portal/sessions").first)
            #expect(portalRequest.form["customer"] == world.stripe.createdIDs(.customer).first)
            #expect(portalRequest.form["return_url"]?.hasPrefix(Self.publicBaseURL + "/") == true)
        }
    }
}
