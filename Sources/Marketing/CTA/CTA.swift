/// Where a CTA click from Telegram came from.
public enum CTASource: String, Sendable, Equatable {
    /// An inline button whose `callback_data` is `cta:<name>[:<campaign>]`.
    case callbackQuery = "callback_query"
    /// A `/start cta_<name>[-<campaign>]` deep link (`t.me/<bot>?start=cta_<name>`).
    case deepLink = "deep_link"
}

/// A call to action parsed from Telegram: its name (the click's `cta_type`) and optional campaign.
public struct CTA: Sendable, Equatable {
    /// `[a-z0-9_]{1,32}`.
    public var name: String
    /// `[A-Za-z0-9_-]{1,64}`, or nil.
    public var campaign: String?
    public var source: CTASource

    public init(name: String, campaign: String? = nil, source: CTASource) {
        self.name = name
        self.campaign = campaign
        self.source = source
    }
}
