import Foundation
import HTTPTypes
import Hummingbird

/// The payment key of an admin grant: `admin:<Idempotency-Key>` when the operator sends one (the same key again is
/// the same grant, never a second one), else a fresh `admin:<uuid>`.
enum AdminGrantKey {
    static let header = RequestHeader.idempotencyKey

    static func from(_ value: String?) throws(ProblemError) -> String {
        guard let value else { return "admin:" + UUID().uuidString.lowercased() }
        let key = value.trimmingCharacters(in: .whitespaces)
        guard (1...200).contains(key.count), key.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F }) else {
            throw ProblemError.badRequest("Idempotency-Key must be 1-200 visible ASCII characters")
        }
        return "admin:" + key
    }
}
