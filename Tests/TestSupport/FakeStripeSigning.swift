import Crypto
import Foundation

extension FakeStripe {
    /// The `Stripe-Signature` value Stripe would send for `payload` signed with `secret` at `timestamp`:
    /// `t=<timestamp>,v1=<hex HMAC-SHA256 of "<timestamp>.<payload>" keyed with the whole secret string>`.
    public static func signedWebhook(payload: Data, secret: String, timestamp: Int64) -> String {
        "t=\(timestamp),v1=\(signature(payload: payload, secret: secret, timestamp: timestamp))"
    }

    /// A header with one `v1` per secret (what Stripe sends while a secret is being rolled).
    public static func signedWebhook(payload: Data, secrets: [String], timestamp: Int64) -> String {
        (["t=\(timestamp)"] + secrets.map { "v1=" + signature(payload: payload, secret: $0, timestamp: timestamp) })
            .joined(separator: ",")
    }

    /// Lowercase hex HMAC-SHA256 of `"<timestamp>.<payload>"` under `secret` (used as-is, `whsec_` included).
    public static func signature(payload: Data, secret: String, timestamp: Int64) -> String {
        var mac = HMAC<SHA256>(key: SymmetricKey(data: Array(secret.utf8)))
        mac.update(data: Array("\(timestamp).".utf8))
        mac.update(data: payload)
        return mac.finalize().map { byte in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined()
    }

    /// Now, in Unix seconds.
    public static func nowSeconds() -> Int64 { Int64(Date().timeIntervalSince1970) }

    /// A random Stripe-looking id: `newID("evt")` → `evt_1Q…` (24 random alphanumerics).
    public static func newID(_ prefix: String) -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
        return prefix + "_" + String((0..<24).map { _ in alphabet.randomElement() ?? "x" })
    }
}
