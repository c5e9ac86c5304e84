import Billing
import Foundation
import Logging
import PGClient

/// An operator's retry of a Stars payment kept as `dead` (its payload could not be verified, or applying it failed):
/// the stored update is resolved again (`StarsPaymentResolver`) and applied under the ledger row's lock, once.
public struct StarsPaymentRetry: Sendable {
    let pool: PGPool
    let resolver: StarsPaymentResolver

    public init(pool: PGPool, resolver: StarsPaymentResolver) {
        self.pool = pool
        self.resolver = resolver
    }

    public enum Outcome: Sendable, Equatable {
        /// Applied now (`processed`), or it changed nothing (`ignored`).
        case applied(changed: Bool)
        /// Still cannot be applied; the reason is stored on the row.
        case failed(String)
    }

    /// - Returns: nil when `id` is not a failed or dead Stars payment.
    public func retry(id: Int64) async throws -> Outcome? {
        guard
            let event = try await pool.withConnection({ try await PaymentLedger.find($0, id: id) }),
            event.provider == .telegramStars, event.eventType == "successful_payment",
            event.status == .failed || event.status == .dead
        else { return nil }
        let stored = try await pool.withConnection { connection in
            try await connection.query("SELECT payload::text AS payload, raw_body FROM payment_events WHERE id = \(id)").first
                .map(PaymentLedger.storedBody)
        }
        guard let stored, let update = try? TelegramUpdate.decode(from: Data(stored.utf8)),
            case .message(let message) = update.content, let payment = message.successfulPayment
        else { return try await fail(id, "the stored update is not a successful_payment message") }
        guard let stars = try await resolver.resolve(message, payment, raw: stored) else {
            return try await fail(id, "invoice payload failed verification")
        }
        do {
            return try await pool.transaction { tx -> Outcome? in
                guard try await PaymentLedger.lockForRetry(tx, id: id) != nil else { return nil }
                switch try await StarsLedger.applyPayment(tx, stars, ledgerRow: id) {
                case .applied: return .applied(changed: true)
                case .duplicate, .recordedWithoutEffect: return .applied(changed: false)
                }
            }
        } catch let error as PGError where !error.failsEveryTime {
            throw error
        } catch {
            return try await fail(id, "\(error)")
        }
    }

    private func fail(_ id: Int64, _ reason: String) async throws -> Outcome {
        try await pool.withConnection { connection in
            try await connection.execute(
                """
                UPDATE payment_events SET attempts = attempts + 1, last_error = \(reason)
                WHERE id = \(id) AND status IN ('failed', 'dead')
                """)
        }
        return .failed(reason)
    }
}
