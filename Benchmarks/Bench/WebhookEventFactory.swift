import AsyncHTTPClient
import Crypto
import Foundation
import NIOCore

/// Builds signed Stripe `invoice.paid` webhook requests: unique event and invoice ids per index, shaped like a
/// subscription renewal invoice of API version 2024-06-20 (subscription metadata carrying our `user_id` and `plan`, as
/// our checkout sets it; one line with the paid period and the price).
///
/// Event `i` is for user `(i % users) + 1`, customer `cus_bench_<user>` and subscription `sub_bench_<user>`, which
/// scripts/bench-webhook seeds. `Stripe-Signature` is `t=<now>,v1=HMAC-SHA256(secret, "<t>.<body>")`.
struct WebhookEventFactory: Sendable {
    let url: String
    let secret: SymmetricKey
    /// Distinguishes this run's ids from every earlier run's (`evt_bench_<runID>_<i>`).
    let runID: String
    let users: Int
    let plan: String
    let priceID: String

    init(url: String, secret: String, runID: String, users: Int, plan: String, priceID: String) {
        self.url = url
        self.secret = SymmetricKey(data: Array(secret.utf8))
        self.runID = runID
        self.users = users
        self.plan = plan
        self.priceID = priceID
    }

    /// The event body for index `index`, created at `now` (Unix seconds).
    func body(_ index: Int, now: Int64) -> String {
        let user = index % users + 1
        let eventID = "evt_bench_\(runID)_\(index)"
        let invoiceID = "in_bench_\(runID)_\(index)"
        let periodStart = now
        let periodEnd = now + 30 * 86_400
        let metadata = "{\"plan\":\"\(plan)\",\"user_id\":\"\(user)\"}"
        return """
            {"id":"\(eventID)","object":"event","api_version":"2024-06-20","created":\(now),"livemode":false,\
            "pending_webhooks":1,"request":{"id":null,"idempotency_key":null},"type":"invoice.paid",\
            "data":{"object":{"id":"\(invoiceID)","object":"invoice","account_country":"US",\
            "amount_due":999,"amount_paid":999,"amount_remaining":0,"attempt_count":1,"attempted":true,\
            "billing_reason":"subscription_cycle","collection_method":"charge_automatically","created":\(now),\
            "currency":"usd","customer":"cus_bench_\(user)","customer_email":"bench\(user)@example.com",\
            "hosted_invoice_url":"https://invoice.stripe.com/i/acct_bench/\(invoiceID)",\
            "invoice_pdf":"https://pay.stripe.com/invoice/acct_bench/\(invoiceID)/pdf",\
            "livemode":false,"metadata":{},"number":"BENCH-\(index)","paid":true,\
            "period_start":\(periodStart),"period_end":\(periodStart),"status":"paid",\
            "subscription":"sub_bench_\(user)","subscription_details":{"metadata":\(metadata)},\
            "subtotal":999,"total":999,\
            "lines":{"object":"list","has_more":false,"total_count":1,"url":"/v1/invoices/\(invoiceID)/lines",\
            "data":[{"id":"il_bench_\(runID)_\(index)","object":"line_item","amount":999,"currency":"usd",\
            "description":"1 x Premium (at $9.99 / month)","livemode":false,"metadata":\(metadata),\
            "period":{"start":\(periodStart),"end":\(periodEnd)},\
            "price":{"id":"\(priceID)","object":"price","active":true,"currency":"usd","product":"prod_bench",\
            "recurring":{"interval":"month","interval_count":1},"type":"recurring","unit_amount":999},\
            "proration":false,"quantity":1,"subscription":"sub_bench_\(user)","type":"subscription"}]}}}}
            """
    }

    /// `t=<now>,v1=<hex HMAC-SHA256(secret, "<now>.<body>")>`.
    func signature(body: [UInt8], now: Int64) -> String {
        var mac = HMAC<SHA256>(key: secret)
        mac.update(data: Array("\(now).".utf8))
        mac.update(data: body)
        let hex = mac.finalize().map { byte in
            let digits = Array("0123456789abcdef".utf8)
            return String(decoding: [digits[Int(byte >> 4)], digits[Int(byte & 0x0f)]], as: UTF8.self)
        }.joined()
        return "t=\(now),v1=\(hex)"
    }

    /// The signed POST for index `index`, signed at `now`.
    func request(_ index: Int, now: Int64 = Int64(Date().timeIntervalSince1970)) -> HTTPClientRequest {
        let bytes = Array(body(index, now: now).utf8)
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json; charset=utf-8")
        request.headers.add(name: "User-Agent", value: "Stripe/1.0 (+https://stripe.com/docs/webhooks)")
        request.headers.add(name: "Stripe-Signature", value: signature(body: bytes, now: now))
        request.body = .bytes(ByteBuffer(bytes: bytes))
        return request
    }

    /// Reads `"outcome":"…"` from the webhook's answer.
    static func outcome(_ body: ByteBuffer) -> String? {
        guard let text = body.getString(at: body.readerIndex, length: body.readableBytes),
            let range = text.range(of: "\"outcome\":\"")
        else { return nil }
        let rest = text[range.upperBound...]
        return rest.firstIndex(of: "\"").map { String(rest[..<$0]) }
    }
}
