import Foundation

/// Removes a bot token from text bound for logs and errors.
///
/// The token is `<bot id>:<secret>`; the secret is what must not leak. The whole token, its percent-encoded form
/// and the secret alone are replaced, so `…/bot123:AAE…/sendMessage` becomes `…/bot<redacted>/sendMessage`.
struct BotTokenRedactor: Sendable {
    private let needles: [String]

    init(token: String) {
        var needles: [String] = []
        if !token.isEmpty {
            needles.append(token)
            let encoded = token.replacingOccurrences(of: ":", with: "%3A")
            needles.append(encoded)
            needles.append(token.replacingOccurrences(of: ":", with: "%3a"))
            if let colon = token.firstIndex(of: ":") {
                let secret = String(token[token.index(after: colon)...])
                // A very short secret would redact innocent text everywhere; real ones are 35 characters.
                if secret.count >= 8 { needles.append(secret) }
            }
        }
        self.needles = needles
    }

    func callAsFunction(_ text: String) -> String {
        var text = text
        for needle in needles where text.contains(needle) {
            text = text.replacingOccurrences(of: needle, with: "<redacted>")
        }
        return text
    }
}
