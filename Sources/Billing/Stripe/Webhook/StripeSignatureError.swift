/// Why a `Stripe-Signature` header was refused. The webhook answers 400 and writes nothing for all of them.
///
/// Descriptions name the failure only: never the secret, the expected signature or the payload.
public enum StripeSignatureError: Error, Sendable, Equatable, CustomStringConvertible {
    /// No `Stripe-Signature` header, or an empty one.
    case missingHeader
    /// The header has no integer `t=` timestamp (or is not `key=value` pairs at all).
    case malformedHeader
    /// The header carries no `v1` signature (only other schemes such as `v0`, or none).
    case noV1
    /// The timestamp is further than the tolerance from now, in the past or in the future.
    case timestampOutOfTolerance(timestamp: Int64)
    /// No `v1` signature matches the payload under any configured secret.
    case noMatch

    public var description: String {
        switch self {
        case .missingHeader: "missing Stripe-Signature header"
        case .malformedHeader: "unable to extract timestamp and signatures from Stripe-Signature header"
        case .noV1: "no signatures found with expected scheme v1"
        case .timestampOutOfTolerance(let timestamp): "timestamp \(timestamp) outside the tolerance zone"
        case .noMatch: "no signatures found matching the expected signature for payload"
        }
    }
}
