import Billing
import Foundation
import PGClient
import TestSupport
import Testing

/// `trial_days`, `allow_promotion_codes` and `automatic_tax` in the plan catalog: validated by `plans sync` with
/// messages naming the plan and field, and stored in `plans`.
@Suite struct PlanCheckoutOptionsTests {
    static func issues(_ json: String) -> [String] {
        do {
            _ = try PlanCatalog.parse(data: Data(json.utf8))
            return []
        } catch {
            guard case .invalid(let issues) = error else { return ["\(error)"] }
            return issues.map(\.description)
        }
    }

    @Test func validOptionsAreReadAndStored() async throws {
        let catalog = try PlanCatalog.parse(
            data: Data(
                """
                [{"code": "pro", "name": "Pro", "period_days": 30, "stripe_price_id": "price_pro", "recurring": true,
                  "trial_days": 7, "allow_promotion_codes": true, "automatic_tax": false}]
                """.utf8))
        #expect(catalog.plans.first?.checkout == PlanCheckoutOptions(trialDays: 7, allowPromotionCodes: true))
        try await TestDatabase.with { _, pool in
            try await PlanCatalog.sync(catalog, pool: pool)
            let stored = try await pool.withConnection { try await PlanStore.plan($0, code: "pro") }
            #expect(stored?.checkout == PlanCheckoutOptions(trialDays: 7, allowPromotionCodes: true, automaticTax: false))
            // Changing only an option is an update.
            let changed = try PlanCatalog.parse(
                data: Data(
                    #"[{"code": "pro", "name": "Pro", "period_days": 30, "stripe_price_id": "price_pro", "recurring": true}]"#
                        .utf8))
            let report = try await PlanCatalog.sync(changed, pool: pool)
            #expect(report.updated == ["pro"])
            #expect(try await pool.withConnection { try await PlanStore.plan($0, code: "pro") }?.checkout == PlanCheckoutOptions())
        }
    }

    @Test func invalidOptionsAreRejectedWithClearMessages() {
        #expect(
            Self.issues(#"[{"code": "once", "name": "Once", "period_days": 30, "stripe_price_id": "p1", "trial_days": 7}]"#)
                == [#"plan "once": trial_days needs "recurring": true (a trial delays a subscription's first charge)"#])
        #expect(
            Self.issues(#"[{"code": "stars", "name": "S", "period_days": 30, "stars_price": 5, "recurring": true, "trial_days": 7}]"#)
                == [#"plan "stars": trial_days needs a stripe_price_id (trials are offered through Stripe Checkout)"#])
        #expect(
            Self.issues(#"[{"code": "p", "name": "P", "period_days": 30, "stripe_price_id": "p1", "recurring": true, "trial_days": 0}]"#)
                == [#"plan "p": trial_days must be greater than 0 (got 0)"#])
        #expect(
            Self.issues(#"[{"code": "p", "name": "P", "period_days": 30, "stripe_price_id": "p1", "recurring": true, "trial_days": 731}]"#)
                == [#"plan "p": trial_days must be at most 730 (got 731)"#])
        #expect(
            Self.issues(#"[{"code": "p", "name": "P", "period_days": 30, "allow_promotion_codes": "yes", "automatic_tax": 1}]"#)
                == [
                    #"plan "p": allow_promotion_codes must be true or false (got "yes")"#,
                    #"plan "p": automatic_tax must be true or false (got 1)"#,
                ])
    }
}
