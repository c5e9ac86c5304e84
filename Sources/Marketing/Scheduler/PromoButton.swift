/// An inline keyboard button of a promo post.
public struct PromoButton: Sendable, Equatable {
    public enum Action: Sendable, Equatable {
        /// `callback_data` (a `cta:<name>[:<campaign>]` payload, logged by CTA capture when pressed).
        case callback(String)
        /// A link (for example the Mini App's `t.me/<bot>/<app>` link; `web_app` buttons do not work in channels).
        case url(String)
    }

    public var text: String
    public var action: Action

    public init(text: String, action: Action) {
        self.text = text
        self.action = action
    }
}
