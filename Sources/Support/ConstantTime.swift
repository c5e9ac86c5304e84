import Crypto
import Foundation

/// Comparisons whose time does not depend on where the inputs differ, nor on their lengths.
public enum ConstantTime {
    /// A random key for this process: inputs are compared as their HMACs, so no timing tells anything about them.
    private static let key = SymmetricKey(size: .bits256)

    /// True when both byte sequences are equal. Both are HMAC-ed with a per-process key and the codes compared
    /// with swift-crypto's constant-time check (`HMAC.isValidAuthenticationCode`).
    public static func equals(_ lhs: some Sequence<UInt8>, _ rhs: some Sequence<UInt8>) -> Bool {
        let code = HMAC<SHA256>.authenticationCode(for: Array(lhs), using: key)
        return HMAC<SHA256>.isValidAuthenticationCode(code, authenticating: Array(rhs), using: key)
    }
}
