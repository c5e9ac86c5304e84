import Crypto
import Foundation
import Support

/// Verifies Stripe webhook signatures (`Stripe-Signature`) as docs/api.md ("Stripe webhook") asks.
///
/// The signed text is `"{t}.{raw body bytes}"`, MACed with HMAC-SHA256 under each configured secret, the whole
/// `whsec_…` string being the key (that is what Stripe's libraries do; the vectors confirm it). Any `v1` value may
/// match any secret, so both Stripe's and our secret rotations work. Comparisons are constant-time. Unlike
/// stripe-python, which only refuses old timestamps, a timestamp further than the tolerance in the *future* is
/// refused too.
///
/// Checks run in stripe-python's order (header, `v1` present, signature, then time), so a forged and stale header
/// reports `.noMatch`.
public struct StripeSignatureVerifier: Sendable, CustomStringConvertible {
    private let keys: [SymmetricKey]
    /// Largest accepted distance between `t` and now, in seconds, in either direction.
    public let toleranceSeconds: Int64
    private let now: @Sendable () -> Date

    /// - Parameters:
    ///   - secrets: the configured `whsec_…` secrets, in any order (rotation: all are tried).
    ///   - toleranceSeconds: `STRIPE_WEBHOOK_TOLERANCE_SECONDS` (300 by default).
    ///   - now: the clock; tests pin it.
    public init(secrets: [String], toleranceSeconds: Int64 = 300, now: @escaping @Sendable () -> Date = { Date() }) {
        self.keys = secrets.map { SymmetricKey(data: Array($0.utf8)) }
        self.toleranceSeconds = toleranceSeconds
        self.now = now
    }

    /// Number of configured secrets (the secrets themselves are never exposed).
    public var secretCount: Int { keys.count }

    /// Safe to log: no secret material.
    public var description: String {
        "StripeSignatureVerifier(secrets: \(keys.count), toleranceSeconds: \(toleranceSeconds))"
    }

    /// Verifies `header` against the exact bytes of the request body.
    /// - Parameters:
    ///   - payload: the raw body, byte for byte as received (never re-encoded JSON).
    ///   - header: the `Stripe-Signature` value, or nil when the request had none.
    /// - Returns: the parsed header (its timestamp is the signing time).
    /// - Throws: `StripeSignatureError`.
    @discardableResult
    public func verify(payload: some DataProtocol, header: String?) throws(StripeSignatureError) -> StripeSignatureHeader {
        guard let header else { throw .missingHeader }
        let parsed = try StripeSignatureHeader(parsing: header)
        let candidates = parsed.v1Signatures.compactMap(Self.decodeHex)
        var matched = false
        for key in keys {
            var mac = HMAC<SHA256>(key: key)
            mac.update(data: Array("\(parsed.timestamp).".utf8))
            mac.update(data: payload)
            let expected = mac.finalize()
            // No early exit: every candidate is compared under every secret, in constant time (swift-crypto's `==`).
            for candidate in candidates where expected == candidate {
                matched = true
            }
        }
        guard matched else { throw .noMatch }
        let distance = abs(now().timeIntervalSince1970 - Double(parsed.timestamp))
        guard distance <= Double(toleranceSeconds) else { throw .timestampOutOfTolerance(timestamp: parsed.timestamp) }
        return parsed
    }

    /// Decodes lowercase hex (what Stripe sends; stripe-python compares lowercase hex strings, so uppercase never
    /// matches there either); nil for anything else.
    static func decodeHex(_ text: String) -> [UInt8]? {
        text.isEmpty ? nil : Hex.decode(text, allowUppercase: false)
    }
}
