import Foundation

/// A row of `marketing_promos`: the text and inline keyboard of one post.
public struct Promo: Sendable, Equatable {
    public var id: Int64
    public var campaign: String
    public var position: Int
    public var text: String
    public var buttons: [[PromoButton]]

    public init(id: Int64, campaign: String, position: Int, text: String, buttons: [[PromoButton]]) {
        self.id = id
        self.campaign = campaign
        self.position = position
        self.text = text
        self.buttons = buttons
    }
}

/// A button as stored in `marketing_promos.buttons`: `{"text", "cta"}` or `{"text", "url"}`.
struct StoredPromoButton: Codable, Sendable {
    var text: String
    var cta: String?
    var url: String?

    /// The keyboard button, or nil when the stored one is unusable (no text, bad CTA name, neither action).
    func button(campaign: String) -> PromoButton? {
        guard !text.isEmpty else { return nil }
        if let cta, let data = CTAParser.callbackData(name: cta, campaign: campaign) {
            return PromoButton(text: text, action: .callback(data))
        }
        if let url, url.hasPrefix("https://") || url.hasPrefix("http://") || url.hasPrefix("tg://") {
            return PromoButton(text: text, action: .url(url))
        }
        return nil
    }
}
