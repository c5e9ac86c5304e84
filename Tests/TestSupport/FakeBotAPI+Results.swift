import Foundation

extension FakeBotAPI.Store {
    typealias JSON = FakeBotAPI.JSON

    /// A plausible answer to a well-formed call, or the 400 Telegram would give a malformed one. A result set
    /// with `FakeBotAPI.setResult` replaces the computed one (after the checks).
    func result(method: String, body: JSON, state: inout FakeBotAPI.State) -> FakeBotAPI.Answer {
        let answer: FakeBotAPI.Answer
        switch method {
        case "getMe":
            answer = Self.ok(botUser)
        case "sendMessage":
            guard let chat = body["chat_id"], chat != .null else { return Self.chatNotFound }
            guard let text = body["text"]?.string, !text.isEmpty else {
                return Self.error(400, "Bad Request: message text is empty")
            }
            var message = message(chat: chat, state: &state)
            message["text"] = .string(text)
            if let markup = body["reply_markup"] { message["reply_markup"] = markup }
            answer = Self.ok(.object(message))
        case "sendInvoice":
            guard let chat = body["chat_id"], chat != .null else { return Self.chatNotFound }
            if let problem = Self.invoiceProblem(body) { return Self.error(400, "Bad Request: \(problem)") }
            if body["subscription_period"] != nil {
                return Self.error(400, "Bad Request: SUBSCRIPTION_PERIOD_INVALID")
            }
            var message = message(chat: chat, state: &state)
            message["invoice"] = [
                "title": body["title"] ?? "", "description": body["description"] ?? "",
                "start_parameter": body["start_parameter"] ?? "", "currency": body["currency"] ?? "",
                "total_amount": .integer(Self.total(body)),
            ]
            answer = Self.ok(.object(message))
        case "createInvoiceLink":
            if let problem = Self.invoiceProblem(body) { return Self.error(400, "Bad Request: \(problem)") }
            if let period = body["subscription_period"] {
                // 30 days; Telegram's test environment also accepts 60 and 300 seconds.
                guard [2_592_000, 60, 300].contains(period.int ?? 0), body["currency"]?.string == "XTR" else {
                    return Self.error(400, "Bad Request: SUBSCRIPTION_PERIOD_INVALID")
                }
            }
            answer = Self.ok(.string("https://t.me/$" + Self.randomSlug()))
        case "answerPreCheckoutQuery":
            guard body["pre_checkout_query_id"]?.string?.isEmpty == false, let ok = body["ok"]?.bool else {
                return Self.error(400, "Bad Request: QUERY_ID_INVALID")
            }
            if !ok, body["error_message"]?.string?.isEmpty ?? true {
                return Self.error(400, "Bad Request: PRECHECKOUT_ERROR_MESSAGE_EMPTY")
            }
            answer = Self.ok(true)
        case "answerCallbackQuery":
            guard body["callback_query_id"]?.string?.isEmpty == false else {
                return Self.error(
                    400,
                    "Bad Request: query is too old and response timeout expired or query ID is invalid"
                )
            }
            answer = Self.ok(true)
        case "refundStarPayment":
            guard body["user_id"]?.int != nil, let charge = body["telegram_payment_charge_id"]?.string, !charge.isEmpty
            else { return Self.error(400, "Bad Request: CHARGE_ID_INVALID") }
            guard state.refundedCharges.insert(charge).inserted else {
                return Self.error(400, "Bad Request: CHARGE_ALREADY_REFUNDED")
            }
            answer = Self.ok(true)
        case "editUserStarSubscription":
            guard body["user_id"]?.int != nil, body["telegram_payment_charge_id"]?.string?.isEmpty == false,
                body["is_canceled"]?.bool != nil
            else { return Self.error(400, "Bad Request: CHARGE_ID_INVALID") }
            answer = Self.ok(true)
        case "getStarTransactions":
            let offset = max(0, Int(body["offset"]?.int ?? 0))
            let limit = Int(body["limit"]?.int ?? 100)
            guard (1...100).contains(limit) else { return Self.error(400, "Bad Request: LIMIT_INVALID") }
            let page = state.starTransactions.dropFirst(offset).prefix(limit)
            answer = Self.ok(["transactions": .array(Array(page))])
        case "getWebhookInfo":
            // The last setWebhook's URL and update types, as Telegram reports them (never the secret token).
            let last = state.calls.last { $0.method == "setWebhook" && $0.status == 200 }?.body
            var info: [String: JSON] = [
                "url": last?["url"] ?? "", "has_custom_certificate": false, "pending_update_count": 0,
            ]
            if let allowed = last?["allowed_updates"] { info["allowed_updates"] = allowed }
            answer = Self.ok(.object(info))
        case "setWebhook", "deleteWebhook", "setMyCommands", "sendChatAction":
            answer = Self.ok(true)
        default:
            return Self.error(404, "Not Found")
        }
        if let scripted = state.results[method] { return Self.ok(scripted) }
        return answer
    }

    private static var chatNotFound: FakeBotAPI.Answer { error(400, "Bad Request: chat not found") }

    /// A new message object from the bot in `chat`, with the next message id.
    private func message(chat: JSON, state: inout FakeBotAPI.State) -> [String: JSON] {
        let id = state.nextMessageID
        state.nextMessageID += 1
        let chatObject: JSON =
            if let chatID = chat.int {
                ["id": .integer(chatID), "type": chatID < 0 ? "channel" : "private"]
            } else {
                [
                    "id": -1_001_000_000_000, "type": "channel",
                    "username": .string((chat.string ?? "").replacingOccurrences(of: "@", with: "")),
                ]
            }
        return [
            "message_id": .integer(id), "from": botUser, "chat": chatObject,
            "date": .integer(Int64(Date().timeIntervalSince1970)),
        ]
    }

    /// What Telegram would refuse in an invoice, or nil.
    private static func invoiceProblem(_ body: JSON) -> String? {
        guard let title = body["title"]?.string, (1...32).contains(title.count) else { return "INVOICE_TITLE_INVALID" }
        guard let description = body["description"]?.string, (1...255).contains(description.count) else {
            return "INVOICE_DESCRIPTION_INVALID"
        }
        guard let payload = body["payload"]?.string, (1...128).contains(payload.utf8.count) else {
            return "INVOICE_PAYLOAD_INVALID"
        }
        guard let currency = body["currency"]?.string, !currency.isEmpty else { return "CURRENCY_INVALID" }
        guard let prices = body["prices"]?.array, !prices.isEmpty,
            prices.allSatisfy({ $0["label"]?.string != nil && ($0["amount"]?.int ?? 0) > 0 })
        else { return "PRICES_INVALID" }
        if currency == "XTR" {
            if prices.count != 1 { return "STARS_INVOICE_INVALID" }
            if let token = body["provider_token"]?.string, !token.isEmpty { return "PROVIDER_TOKEN_INVALID" }
        }
        return nil
    }

    private static func total(_ body: JSON) -> Int64 {
        (body["prices"]?.array ?? []).reduce(0) { $0 + ($1["amount"]?.int ?? 0) }
    }

    private static func randomSlug() -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
        return String((0..<22).map { _ in alphabet.randomElement() ?? "A" })
    }
}
