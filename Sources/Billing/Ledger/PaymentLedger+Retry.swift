import Foundation
import PGClient

/// A failed ledger row locked for reprocessing.
public struct LockedPaymentEvent: Sendable {
    public var id: Int64
    public var provider: PaymentProvider
    public var eventID: String
    public var eventType: String
    public var attempts: Int
    /// The stored payload (the full webhook body).
    public var payload: String
}

extension PaymentLedger {
    /// Locks the next due `failed` event of a provider, skipping rows another instance holds (`FOR UPDATE SKIP
    /// LOCKED`). Call inside the transaction that reprocesses it.
    public static func lockNextDue(_ tx: PGConnection, provider: PaymentProvider) async throws -> LockedPaymentEvent? {
        try await tx.query(
            """
            SELECT id, provider, event_id, event_type, attempts, payload::text AS payload, raw_body FROM payment_events
            WHERE status = 'failed' AND provider = \(provider.rawValue) AND next_attempt_at <= now()
            ORDER BY next_attempt_at, id
            LIMIT 1
            FOR UPDATE SKIP LOCKED
            """
        ).first.map(decodeLocked)
    }

    /// Locks one event by id for an operator's retry; nil when it does not exist or is not failed/dead.
    public static func lockForRetry(_ tx: PGConnection, id: Int64) async throws -> LockedPaymentEvent? {
        try await tx.query(
            """
            SELECT id, provider, event_id, event_type, attempts, payload::text AS payload, raw_body FROM payment_events
            WHERE id = \(id) AND status IN ('failed', 'dead')
            FOR UPDATE
            """
        ).first.map(decodeLocked)
    }

    /// Marks a reprocessed event done (`processed`, or `ignored` when it changed nothing).
    public static func markReprocessed(_ tx: PGConnection, id: Int64, changed: Bool) async throws {
        try await tx.execute(
            """
            UPDATE payment_events SET status = \(changed ? "processed" : "ignored"), processed_at = now(),
                attempts = attempts + 1, last_error = NULL, next_attempt_at = NULL
            WHERE id = \(id)
            """)
    }

    /// Records another failed attempt: exponential backoff from `base`, `dead` after `maxAttempts`.
    public static func markAttemptFailed(
        _ connection: PGConnection, id: Int64, error: String, base: Duration, maxAttempts: Int
    ) async throws {
        let baseSeconds = Double(base.components.seconds) + Double(base.components.attoseconds) / 1e18
        try await connection.execute(
            """
            UPDATE payment_events SET attempts = attempts + 1, last_error = \(String(error.prefix(1000))),
                status = CASE WHEN attempts + 1 >= \(maxAttempts) THEN 'dead' ELSE 'failed' END,
                next_attempt_at = now() + make_interval(secs => \(baseSeconds) * power(2, least(attempts, 16)))
            WHERE id = \(id) AND status IN ('failed', 'dead')
            """)
    }

    /// The stored body of a row that selected `payload::text AS payload, raw_body`: the jsonb payload, or the raw
    /// bytes of a body jsonb could not hold (read as UTF-8, invalid sequences replaced).
    public static func storedBody(_ row: PGRow) throws -> String {
        if let payload = try row.decode("payload", as: String?.self) { return payload }
        return String(decoding: try row.decode("raw_body", as: Data?.self) ?? Data(), as: UTF8.self)
    }

    static func decodeLocked(_ row: PGRow) throws -> LockedPaymentEvent {
        LockedPaymentEvent(
            id: try row.decode("id"),
            provider: PaymentProvider(rawValue: try row.decode("provider", as: String.self)) ?? .stripe,
            eventID: try row.decode("event_id"), eventType: try row.decode("event_type"),
            attempts: try row.decode("attempts"), payload: try storedBody(row))
    }
}
