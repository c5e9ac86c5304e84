import PGClient

/// The answer to a `pre_checkout_query`: Telegram waits at most 10 s for it, so it is one indexed read.
public struct PreCheckoutDecision: Sendable, Equatable {
    public var ok: Bool
    /// Shown to the user by Telegram when `ok` is false.
    public var errorMessage: String?

    public static let accept = PreCheckoutDecision(ok: true, errorMessage: nil)

    public static func reject(_ message: String) -> PreCheckoutDecision {
        PreCheckoutDecision(ok: false, errorMessage: message)
    }
}

/// Checks a pre-checkout query against the plan named by its (already verified) invoice payload.
public enum PreCheckoutRules {
    public static let invalidPayloadMessage = "This invoice is not valid for your account. Please request a new one."

    /// - Parameters:
    ///   - plan: the plan code from the verified payload, or nil when the payload failed verification.
    ///   - currency: the query's currency (must be XTR).
    ///   - totalAmount: the query's amount (must equal the plan's `stars_price`).
    public static func decide(_ connection: PGConnection, plan: String?, currency: String, totalAmount: Int64) async throws
        -> PreCheckoutDecision
    {
        guard let plan else { return .reject(invalidPayloadMessage) }
        guard currency == TelegramStars.currency else { return .reject("This plan can only be paid in Telegram Stars.") }
        guard
            let row = try await connection.query("SELECT stars_price, active FROM plans WHERE code = \(plan)").first,
            try row.decode("active", as: Bool.self)
        else { return .reject("This plan is no longer available.") }
        guard let price = try row.decode("stars_price", as: Int64?.self) else {
            return .reject("This plan cannot be bought with Telegram Stars.")
        }
        guard price == totalAmount else {
            return .reject("The price of this plan has changed. Please open the invoice again.")
        }
        return .accept
    }
}
