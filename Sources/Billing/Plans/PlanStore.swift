import PGClient

/// Reads of the plan catalog. Functions take a connection so they can run inside the caller's transaction.
public enum PlanStore {
    static let columns =
        "code, name, period_days, stripe_price_id, stars_price, recurring, active, trial_days, allow_promotion_codes, automatic_tax"

    /// Active plans, ordered by period then code (the order the Mini App lists them in).
    public static func activePlans(_ connection: PGConnection) async throws -> [Plan] {
        try await connection.query(
            "SELECT \(unsafeRaw: columns) FROM plans WHERE active ORDER BY period_days, code"
        ).map(decode)
    }

    /// Every plan, active or not, ordered by code.
    public static func allPlans(_ connection: PGConnection) async throws -> [Plan] {
        try await connection.query("SELECT \(unsafeRaw: columns) FROM plans ORDER BY code").map(decode)
    }

    /// The plan with this code, active or not (check `active` before selling it); nil when unknown.
    public static func plan(_ connection: PGConnection, code: String) async throws -> Plan? {
        try await connection.query("SELECT \(unsafeRaw: columns) FROM plans WHERE code = \(code)").first.map(decode)
    }

    /// The plan sold under this Stripe Price id, active or not: renewals of subscriptions to a plan that was
    /// later retired must still map to it. Nil when no plan has that price.
    public static func plan(_ connection: PGConnection, stripePriceID: String) async throws -> Plan? {
        try await connection.query(
            "SELECT \(unsafeRaw: columns) FROM plans WHERE stripe_price_id = \(stripePriceID)"
        ).first.map(decode)
    }

    /// One statement for `StripeEventHandler.plan`'s rule: the plan of the first of `priceIDs` that has one, else the
    /// plan with `code`. It is built apart from its run so it can go out in the batch of the ledger claim.
    static func pricedPlanQuery(code: String?, priceIDs: [String]) -> PGQuery {
        """
        SELECT \(unsafeRaw: columns) FROM plans
        WHERE stripe_price_id = ANY(\(priceIDs)::text[]) OR code = \(code)
        ORDER BY array_position(\(priceIDs)::text[], stripe_price_id) NULLS LAST
        LIMIT 1
        """
    }

    static func decode(_ row: PGRow) throws -> Plan {
        Plan(
            code: try row.decode("code"),
            name: try row.decode("name"),
            periodDays: try row.decode("period_days", as: Int.self),
            stripePriceID: try row.decode("stripe_price_id", as: String?.self),
            starsPrice: try row.decode("stars_price", as: Int?.self),
            recurring: try row.decode("recurring"),
            active: try row.decode("active"),
            checkout: PlanCheckoutOptions(
                trialDays: try row.decode("trial_days", as: Int?.self),
                allowPromotionCodes: try row.decode("allow_promotion_codes"),
                automaticTax: try row.decode("automatic_tax")))
    }
}
