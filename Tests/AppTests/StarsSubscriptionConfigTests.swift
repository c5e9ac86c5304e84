import Foundation
import Testing

@testable import App

/// `STARS_SUBSCRIPTION_PERIOD_SECONDS`, `SUPPORT_TEXT` and `TERMS_URL` (issue #19).
@Suite struct StarsSubscriptionConfigTests {
    @Test func theSubscriptionPeriodIsThirtyDaysOrOneOfTheTestEnvironmentsPeriods() throws {
        #expect(try AppConfig.load(from: AppTestSupport.environment()).starsSubscriptionPeriod == 2_592_000)
        for period in [60, 300, 2_592_000] {
            let config = try AppConfig.load(
                from: AppTestSupport.environment(["STARS_SUBSCRIPTION_PERIOD_SECONDS": String(period)]))
            #expect(config.starsSubscriptionPeriod == period)
        }
        for bad in ["61", "86400", "0", "abc"] {
            #expect(throws: AppConfig.Invalid.self) {
                try AppConfig.load(from: AppTestSupport.environment(["STARS_SUBSCRIPTION_PERIOD_SECONDS": bad]))
            }
            do {
                _ = try AppConfig.load(from: AppTestSupport.environment(["STARS_SUBSCRIPTION_PERIOD_SECONDS": bad]))
            } catch {
                #expect(error.variable == "STARS_SUBSCRIPTION_PERIOD_SECONDS")
            }
        }
    }

    @Test func supportTextAndTermsURLHaveDefaultsAndTermsMustBeAURL() throws {
        let plain = try AppConfig.load(from: AppTestSupport.environment())
        #expect(plain.supportText == AppConfig.defaultSupportText)
        #expect(plain.termsURL == nil)
        let set = try AppConfig.load(
            from: AppTestSupport.environment(["SUPPORT_TEXT": "Write to @help", "TERMS_URL": "https://example.com/terms"]))
        #expect(set.supportText == "Write to @help")
        #expect(set.termsURL == "https://example.com/terms")
        #expect(throws: AppConfig.Invalid.self) {
            try AppConfig.load(from: AppTestSupport.environment(["TERMS_URL": "not a url"]))
        }
    }
}
