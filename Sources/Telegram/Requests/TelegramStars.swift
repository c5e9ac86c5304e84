/// Constants of Telegram Stars payments.
public enum TelegramStars {
    /// The currency code of Telegram Stars.
    public static let currency = "XTR"
    /// The subscription period Telegram accepts in production: 30 days, in seconds.
    public static let subscriptionPeriod = 2_592_000
    /// Every `subscription_period` Telegram accepts: 30 days, and in its test environment also 60 and 300 seconds.
    public static let allowedSubscriptionPeriods = [subscriptionPeriod, 60, 300]
    /// Longest invoice payload Telegram accepts, in bytes.
    public static let maxPayloadBytes = 128
    /// Longest invoice title, in characters.
    public static let maxTitleLength = 32
    /// Longest invoice description, in characters.
    public static let maxDescriptionLength = 255
}

/// One line of an invoice (`LabeledPrice`). Stars invoices have exactly one.
public struct LabeledPrice: Codable, Sendable, Equatable {
    public var label: String
    /// In the currency's smallest unit: whole Stars for `XTR`.
    public var amount: Int

    public init(label: String, amount: Int) {
        self.label = label
        self.amount = amount
    }
}
