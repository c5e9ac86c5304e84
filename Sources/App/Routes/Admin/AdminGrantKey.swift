import Billing
import Foundation
import HTTPTypes
import Hummingbird
import PGClient

/// The payment key of an admin grant: `admin:<Idempotency-Key>` when the operator sends one (the same key again is
/// the same grant, never a second one), else a fresh `admin:<uuid>`.
enum AdminGrantKey {
    static let header = HTTPField.Name("Idempotency-Key") ?? .authorization

    static func from(_ value: String?) throws(ProblemError) -> String {
        guard let value else { return "admin:" + UUID().uuidString.lowercased() }
        let key = value.trimmingCharacters(in: .whitespaces)
        guard (1...200).contains(key.count), key.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F }) else {
            throw ProblemError.badRequest("Idempotency-Key must be 1-200 visible ASCII characters")
        }
        return "admin:" + key
    }

    /// The key's grant must be for the same user, plan and length; another request under the same key is 422.
    static func verifySameGrant(_ tx: PGConnection, key: String, userID: Int64, plan: String, days: Int) async throws {
        let same = try await tx.query(
            """
            SELECT 1 FROM entitlement_grants
            WHERE payment_key = \(key) AND user_id = \(userID) AND plan = \(plan)
              AND duration = make_interval(secs => \(Int64(days) * 86_400))
            """
        ).first != nil
        guard same else {
            throw ProblemError.unprocessable("this Idempotency-Key was used for another grant")
        }
    }
}
