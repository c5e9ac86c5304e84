import Billing

/// The inline keyboard of an outbox message, resolved when it is sent: the Mini App as a `web_app` button, or for
/// a failed Stripe payment a fresh billing portal session (portal URLs expire, so they are never stored).
struct NotificationButtons: Sendable {
    let miniAppURL: String?
    let portalLink: NotificationSender.PortalLink?

    /// - Throws: what making the portal URL threw (the message is then retried like a failed send).
    func markup(for message: OutboxMessage) async throws -> InlineKeyboardMarkup? {
        let title = SubscriberMessages.buttonTitle(for: message.kind, button: message.button)
        switch message.button {
        case .none:
            return nil
        case .portal:
            if let portalLink, let url = try await portalLink(message.userID) {
                return InlineKeyboardMarkup([[.url(title, url: url)]])
            }
            return webApp(SubscriberMessages.buttonTitle(for: message.kind, button: .webApp))
        case .webApp:
            return webApp(title)
        }
    }

    private func webApp(_ title: String) -> InlineKeyboardMarkup? {
        miniAppURL.map { InlineKeyboardMarkup([[.webApp(title, url: $0)]]) }
    }
}
