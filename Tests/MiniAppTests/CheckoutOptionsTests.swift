import Billing
import Foundation
import MiniApp
import PGClient
import TestSupport
import Testing

/// Checkout options from the plan catalog (`trial_days`, `allow_promotion_codes`, `automatic_tax`) reach Stripe
/// Checkout: catalog file → `plans sync` → the Mini App checkout → `POST /v1/checkout/sessions`.
@Suite struct CheckoutOptionsTests {
    static let catalog = Data(
        """
        [{"code": "trial_monthly", "name": "Trial, monthly", "period_days": 30, "stripe_price_id": "price_trial",
          "recurring": true, "trial_days": 14, "allow_promotion_codes": true, "automatic_tax": true},
         {"code": "plain_once", "name": "Once", "period_days": 30, "stripe_price_id": "price_plain"}]
        """.utf8)

    @Test func aTrialPlanSendsTrialPeriodDaysPromotionCodesAndAutomaticTax() async throws {
        try await CheckoutServiceTests.with { world in
            try await PlanCatalog.sync(try PlanCatalog.parse(data: Self.catalog), pool: world.pool)
            _ = try await world.checkout("trial_monthly", .stripe, key: "trial-1")
            let form = try #require(world.stripe.requests(path: CheckoutServiceTests.sessionsPath).last).form
            #expect(form["mode"] == "subscription")
            #expect(form["subscription_data[trial_period_days]"] == "14")
            #expect(form["allow_promotion_codes"] == "true")
            #expect(form["automatic_tax[enabled]"] == "true")
        }
    }

    @Test func aPlanWithoutOptionsSendsNone() async throws {
        try await CheckoutServiceTests.with { world in
            try await PlanCatalog.sync(try PlanCatalog.parse(data: Self.catalog), pool: world.pool)
            _ = try await world.checkout("plain_once", .stripe, key: "plain-1")
            let form = try #require(world.stripe.requests(path: CheckoutServiceTests.sessionsPath).last).form
            #expect(form["mode"] == "payment")
            #expect(form["subscription_data[trial_period_days]"] == nil)
            #expect(form["allow_promotion_codes"] == nil)
            #expect(form["automatic_tax[enabled]"] == nil)
        }
    }
}
