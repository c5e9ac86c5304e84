/// Pure parsing (and building) of CTA payloads carried by Telegram updates.
///
/// - Callback data: `cta:<name>` or `cta:<name>:<campaign>` (Telegram caps callback data at 64 bytes).
/// - Deep links: the message text `/start cta_<name>` (or `/start@<bot> cta_<name>`), optionally
///   `cta_<name>-<campaign>` (Telegram's start parameter allows `[A-Za-z0-9_-]`, 64 characters; names cannot
///   contain `-`, so the first `-` separates the campaign).
///
/// Names are `[a-z0-9_]{1,32}`; campaigns are `[A-Za-z0-9_-]{1,64}`. Anything else is not a CTA (nil).
public enum CTAParser {
    /// Telegram's limit for `callback_data`, in bytes.
    public static let maxCallbackDataBytes = 64

    /// True for `[a-z0-9_]{1,32}`.
    public static func isValidName(_ name: some StringProtocol) -> Bool {
        let bytes = name.utf8
        guard (1...32).contains(bytes.count) else { return false }
        return bytes.allSatisfy { (97...122).contains($0) || (48...57).contains($0) || $0 == 95 }
    }

    /// True for `[A-Za-z0-9_-]{1,64}`.
    public static func isValidCampaign(_ campaign: some StringProtocol) -> Bool {
        let bytes = campaign.utf8
        guard (1...64).contains(bytes.count) else { return false }
        return bytes.allSatisfy {
            (97...122).contains($0) || (65...90).contains($0) || (48...57).contains($0) || $0 == 95 || $0 == 45
        }
    }

    /// The CTA in a callback query's data, or nil when the data is not `cta:<name>[:<campaign>]`.
    public static func parseCallbackData(_ data: String) -> CTA? {
        guard data.utf8.count <= maxCallbackDataBytes, data.hasPrefix("cta:") else { return nil }
        let parts = data.dropFirst(4).split(separator: ":", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), isValidName(parts[0]) else { return nil }
        if parts.count == 2 {
            guard isValidCampaign(parts[1]) else { return nil }
            return CTA(name: String(parts[0]), campaign: String(parts[1]), source: .callbackQuery)
        }
        return CTA(name: String(parts[0]), source: .callbackQuery)
    }

    /// The CTA in a `/start` message, or nil when the text is not `/start[@bot] cta_<name>[-<campaign>]`.
    public static func parseStartCommand(_ text: String) -> CTA? {
        let words = text.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\t" })
        guard words.count == 2 else { return nil }
        let command = words[0]
        guard command == "/start" || (command.hasPrefix("/start@") && command.count > 7) else { return nil }
        return parseStartParameter(words[1])
    }

    /// The CTA in a start parameter (`cta_<name>[-<campaign>]`), as Mini App `start_param` also carries it.
    public static func parseStartParameter(_ parameter: some StringProtocol) -> CTA? {
        guard parameter.utf8.count <= 64, parameter.hasPrefix("cta_") else { return nil }
        let body = parameter.dropFirst(4)
        let parts = body.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
        guard isValidName(parts[0]) else { return nil }
        if parts.count == 2 {
            guard isValidCampaign(parts[1]) else { return nil }
            return CTA(name: String(parts[0]), campaign: String(parts[1]), source: .deepLink)
        }
        return CTA(name: String(parts[0]), source: .deepLink)
    }

    /// `cta:<name>:<campaign>` for an inline button, dropping the campaign when the result would exceed 64 bytes.
    /// Returns nil for an invalid name.
    public static func callbackData(name: String, campaign: String?) -> String? {
        guard isValidName(name) else { return nil }
        if let campaign, isValidCampaign(campaign) {
            let data = "cta:\(name):\(campaign)"
            if data.utf8.count <= maxCallbackDataBytes { return data }
        }
        return "cta:\(name)"
    }
}
