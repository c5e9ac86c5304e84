/// A row of the plan catalog (`plans`). A plan's `code` is also the entitlement type it grants.
public struct Plan: Sendable, Equatable, Hashable, Codable {
    /// Stable identifier, `^[a-z0-9][a-z0-9_]{0,63}$`; also the entitlement type.
    public var code: String
    /// Human-readable name shown in the Mini App and on invoices.
    public var name: String
    /// Days one purchase (or one billing period) grants.
    public var periodDays: Int
    /// Stripe Price id; nil when the plan cannot be bought with Stripe.
    public var stripePriceID: String?
    /// Price in Telegram Stars (XTR); nil when the plan cannot be bought with Stars.
    public var starsPrice: Int?
    /// Whether the plan renews (a Stripe subscription) rather than being a one-off purchase.
    public var recurring: Bool
    /// Inactive plans are not sold; they stay in the table because entitlements reference them.
    public var active: Bool
    /// Stripe Checkout options (trial, promotion codes, automatic tax).
    public var checkout: PlanCheckoutOptions

    /// - Parameters:
    ///   - code: plan code (also the entitlement type).
    ///   - name: display name.
    ///   - periodDays: days granted per purchase or period.
    ///   - stripePriceID: Stripe Price id, if sold through Stripe.
    ///   - starsPrice: price in Stars, if sold through Telegram Stars.
    ///   - recurring: renews automatically.
    ///   - active: currently sold.
    ///   - checkout: Stripe Checkout options.
    public init(
        code: String, name: String, periodDays: Int, stripePriceID: String? = nil, starsPrice: Int? = nil,
        recurring: Bool = false, active: Bool = true, checkout: PlanCheckoutOptions = PlanCheckoutOptions()
    ) {
        self.code = code
        self.name = name
        self.periodDays = periodDays
        self.stripePriceID = stripePriceID
        self.starsPrice = starsPrice
        self.recurring = recurring
        self.active = active
        self.checkout = checkout
    }

    /// Whether `provider` can sell this plan (it is active and has a price for that provider).
    public func isSellable(by provider: PaymentProvider) -> Bool {
        guard active else { return false }
        switch provider {
        case .stripe: return stripePriceID != nil
        case .telegramStars: return starsPrice != nil
        }
    }
}
