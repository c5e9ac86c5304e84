import Foundation
import HTTPTypes
import HummingbirdTesting
import PGClient
import TestSupport
import Testing

@testable import App

/// `POST /api/v1/billing/subscription/cancel` and `/resume`, and `renews` on `GET /api/v1/billing/subscription`.
@Suite struct SubscriptionRenewalTests {
    typealias Harness = MiniAppAppHarness

    /// A live Stripe subscription to premium_monthly for the user, known to the fake Stripe and to our tables.
    static func seedStripe(_ app: Harness, _ user: Harness.SignedIn, id: String = "sub_renew1") async throws {
        let periodEnd = Int(Date().timeIntervalSince1970) + 20 * 86_400
        app.stripe.stub(
            path: "/v1/subscriptions/\(id)",
            json: FakeStripe.json([
                "id": id, "object": "subscription", "customer": "cus_renew", "status": "active",
                "cancel_at_period_end": false, "current_period_end": periodEnd, "metadata": [String: String](),
            ]))
        _ = try await app.pool.withConnection { connection in
            try await connection.execute(
                """
                INSERT INTO stripe_subscriptions (subscription_id, user_id, customer_id, plan, status, current_period_end,
                    last_event_created)
                VALUES (\(id), \(user.userID), 'cus_renew', 'premium_monthly', 'active', to_timestamp(\(periodEnd)), now())
                """)
        }
        try await app.insertEntitlement(
            userID: user.userID, plan: "premium_monthly", status: "active", source: "stripe", expiresIn: 20 * 86_400)
    }

    /// A Stars subscription to premium_monthly recorded at its first payment `ch_first`.
    static func seedStars(_ app: Harness, _ user: Harness.SignedIn) async throws {
        _ = try await app.pool.withConnection { connection in
            try await connection.execute(
                """
                INSERT INTO stars_subscriptions (first_charge_id, user_id, plan, invoice_payload, expires_at)
                VALUES ('ch_first', \(user.userID), 'premium_monthly', 'payload-1', now() + interval '20 days')
                """)
        }
        try await app.insertEntitlement(
            userID: user.userID, plan: "premium_monthly", status: "active", source: "telegram_stars",
            expiresIn: 20 * 86_400)
    }

    func change(_ app: Harness, _ user: Harness.SignedIn, _ verb: String, plan: String = "premium_monthly")
        async throws -> TestResponse
    {
        try await app.request(.post, "/api/v1/billing/subscription/\(verb)", token: user.token, json: #"{"plan":"\#(plan)"}"#)
    }

    @Test func aStripeSubscriptionIsCanceledAtPeriodEndThenResumed() async throws {
        try await Harness.with { app in
            let user = try await app.signIn(telegramID: 7_001)
            try await Self.seedStripe(app, user)
            let before = try await app.request(.get, "/api/v1/billing/subscription", token: user.token)
            #expect(before.json?["renews"] as? Bool == true)
            #expect(before.json?["provider"] as? String == "stripe")

            let canceled = try await change(app, user, "cancel")
            #expect(canceled.status == .ok)
            #expect(canceled.json?["renews"] as? Bool == false)
            #expect(canceled.json?["plan"] as? String == "premium_monthly")
            let calls = app.stripe.requests(path: "/v1/subscriptions/sub_renew1")
            #expect(calls.count == 1)
            #expect(calls.first?.formFields.first { $0.name == "cancel_at_period_end" }?.value == "true")
            #expect(calls.first?.idempotencyKey != nil)
            #expect(try await app.count("SELECT count(*) FROM stripe_subscriptions WHERE cancel_at_period_end") == 1)
            let after = try await app.request(.get, "/api/v1/billing/subscription", token: user.token)
            #expect(after.json?["renews"] as? Bool == false)

            let resumed = try await change(app, user, "resume")
            #expect(resumed.status == .ok)
            #expect(resumed.json?["renews"] as? Bool == true)
            #expect(
                app.stripe.requests(path: "/v1/subscriptions/sub_renew1").last?.formFields
                    .first { $0.name == "cancel_at_period_end" }?.value == "false")
            #expect(try await app.count("SELECT count(*) FROM stripe_subscriptions WHERE NOT cancel_at_period_end") == 1)
        }
    }

    @Test func aStarsSubscriptionIsCanceledAndResumedThroughEditUserStarSubscription() async throws {
        try await Harness.with { app in
            let user = try await app.signIn(telegramID: 7_002)
            try await Self.seedStars(app, user)
            let canceled = try await change(app, user, "cancel")
            #expect(canceled.status == .ok)
            #expect(canceled.json?["renews"] as? Bool == false)
            #expect(canceled.json?["provider"] as? String == "telegram_stars")
            let edit = try #require(app.bot.calls("editUserStarSubscription").first)
            #expect(edit.body["user_id"]?.int == 7_002)
            #expect(edit.body["telegram_payment_charge_id"]?.string == "ch_first")
            #expect(edit.body["is_canceled"]?.bool == true)
            #expect(try await app.count("SELECT count(*) FROM stars_subscriptions WHERE canceled") == 1)

            let resumed = try await change(app, user, "resume")
            #expect(resumed.status == .ok)
            #expect(resumed.json?["renews"] as? Bool == true)
            #expect(app.bot.calls("editUserStarSubscription").last?.body["is_canceled"]?.bool == false)
            #expect(try await app.count("SELECT count(*) FROM stars_subscriptions WHERE canceled") == 0)
        }
    }

    @Test func withoutASubscriptionTheAnswerIs404AndOneTimeAccessDoesNotRenew() async throws {
        try await Harness.with { app in
            let user = try await app.signIn(telegramID: 7_003)
            #expect(try await change(app, user, "cancel").status == .notFound)
            #expect(try await change(app, user, "resume").status == .notFound)
            try await app.insertEntitlement(
                userID: user.userID, plan: "boost_week", status: "active", source: "telegram_stars", expiresIn: 86_400)
            #expect(try await change(app, user, "cancel", plan: "boost_week").status == .notFound)
            let current = try await app.request(.get, "/api/v1/billing/subscription", token: user.token)
            #expect(current.json?["renews"] as? Bool == false)
            // Another user's subscription is not yours to cancel.
            let owner = try await app.signIn(telegramID: 7_004)
            try await Self.seedStripe(app, owner, id: "sub_other")
            #expect(try await change(app, user, "cancel").status == .notFound)
            #expect(app.stripe.requests(path: "/v1/subscriptions/sub_other").isEmpty)
            // A missing plan is 400; no token is 401.
            let bad = try await app.request(.post, "/api/v1/billing/subscription/cancel", token: user.token, json: "{}")
            #expect(bad.status == .badRequest)
            let anonymous = try await app.request(
                .post, "/api/v1/billing/subscription/cancel", token: nil, json: #"{"plan":"premium_monthly"}"#)
            #expect(anonymous.status == .unauthorized)
            let none = try await app.request(.get, "/api/v1/billing/subscription", token: owner.token)
            #expect(none.json?["renews"] as? Bool == true)
        }
    }

    @Test func starsSubscriptionLinksUseTheConfiguredPeriod() async throws {
        try await Harness.with(overrides: ["STARS_SUBSCRIPTION_PERIOD_SECONDS": "300"]) { app in
            let user = try await app.signIn(telegramID: 7_006)
            let response = try await app.checkout(user.token, plan: "premium_monthly", provider: "telegram_stars", key: "k-300")
            #expect(response.status == .ok, "\(response.text)")
            let link = try #require(app.bot.calls("createInvoiceLink").first)
            #expect(link.body["subscription_period"]?.int == 300)
            // A one-time plan's link has none.
            _ = try await app.checkout(user.token, plan: "boost_week", provider: "telegram_stars", key: "k-once")
            #expect(app.bot.calls("createInvoiceLink").last?.body["subscription_period"] == nil)
        }
    }

    @Test func aProviderFailureIs502AndRecordsNothing() async throws {
        try await Harness.with { app in
            let user = try await app.signIn(telegramID: 7_005)
            try await Self.seedStars(app, user)
            app.bot.inject(.apiError(code: 400, description: "Bad Request: SUBSCRIPTION_NOT_FOUND"), method: "editUserStarSubscription")
            let failed = try await change(app, user, "cancel")
            #expect(failed.status == .badGateway)
            #expect(try await app.count("SELECT count(*) FROM stars_subscriptions WHERE canceled") == 0)
        }
    }
}
