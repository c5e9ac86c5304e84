/// Stripe Checkout options of a plan, from the catalog (`trial_days`, `allow_promotion_codes`, `automatic_tax`).
public struct PlanCheckoutOptions: Sendable, Equatable, Hashable, Codable {
    /// Days of free trial before a subscription's first charge (`subscription_data[trial_period_days]`); recurring
    /// plans only, 1–730 (Stripe's limit).
    public var trialDays: Int?
    /// Lets the buyer enter a promotion code at Checkout (`allow_promotion_codes`).
    public var allowPromotionCodes: Bool
    /// Stripe Tax computes the tax (`automatic_tax[enabled]`).
    public var automaticTax: Bool

    /// Stripe's upper bound for `trial_period_days`.
    public static let maxTrialDays = 730

    public init(trialDays: Int? = nil, allowPromotionCodes: Bool = false, automaticTax: Bool = false) {
        self.trialDays = trialDays
        self.allowPromotionCodes = allowPromotionCodes
        self.automaticTax = automaticTax
    }

    enum CodingKeys: String, CodingKey {
        case trialDays = "trial_days"
        case allowPromotionCodes = "allow_promotion_codes"
        case automaticTax = "automatic_tax"
    }
}
