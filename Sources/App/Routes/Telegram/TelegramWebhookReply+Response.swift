import Foundation
import Hummingbird
import NIOCore
import Telegram

extension TelegramWebhookReply {
    /// The webhook's 200 answer: `{}`, or the Bot API method Telegram executes.
    var response: Response {
        switch self {
        case .empty:
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: "{}")))
        case .answerPreCheckout(let answer):
            var object: [String: Any] = [
                "method": "answerPreCheckoutQuery", "pre_checkout_query_id": answer.preCheckoutQueryID, "ok": answer.ok,
            ]
            if let message = answer.errorMessage { object["error_message"] = message }
            let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
            return Response(
                status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
        }
    }
}
