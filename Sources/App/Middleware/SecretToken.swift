import Crypto
import Foundation

/// A secret compared in constant time: both sides are HMAC-ed with a per-process random key and the fixed-size
/// codes compared, so neither the secret's content nor its length leaks through timing (as `AdminAuthMiddleware`).
struct SecretToken: Sendable {
    private let key = SymmetricKey(size: .bits256)
    private let expectedMAC: Data

    init(_ secret: String) {
        expectedMAC = Data(HMAC<SHA256>.authenticationCode(for: Data(secret.utf8), using: key))
    }

    func matches<S: StringProtocol>(_ presented: S) -> Bool {
        let mac = Data(HMAC<SHA256>.authenticationCode(for: Data(presented.utf8), using: key))
        guard mac.count == expectedMAC.count else { return false }
        var difference: UInt8 = 0
        for (a, b) in zip(mac, expectedMAC) { difference |= a ^ b }
        return difference == 0
    }

    /// True when `header` is `Bearer <secret>`.
    func matchesBearer(_ header: String?) -> Bool {
        guard let header, header.hasPrefix("Bearer ") else { return false }
        return matches(header.dropFirst(7))
    }
}
