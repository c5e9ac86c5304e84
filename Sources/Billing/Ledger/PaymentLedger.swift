import Crypto
import Foundation
import PGClient
import Support

/// The payment ledger: every provider event passes through `payment_events` exactly once.
public enum PaymentLedger {
    /// Claims an event inside the transaction that applies it. The row is written as `processed` right away (the
    /// same transaction applies the effects, so a failure rolls the claim back with them).
    /// - Returns: the ledger row id, or nil when the event is already recorded (a duplicate: apply nothing). A
    ///   concurrent claimer of the same event waits on the unique index until the first commits or rolls back.
    public static func claim(
        _ tx: PGConnection, provider: PaymentProvider, eventID: String, eventType: String, payload: PGRawJSON,
        eventCreated: Date? = nil
    ) async throws -> Int64? {
        try await claim(
            tx, provider: provider, eventID: eventID, eventType: eventType, payload: payload, eventCreated: eventCreated,
            alongside: nil
        ).row
    }

    /// `claim`, with a read the caller needs whatever the claim finds sent in the same round trip (after it).
    /// - Returns: the claimed row (nil: a duplicate) and the result of `alongside`.
    public static func claim(
        _ tx: PGConnection, provider: PaymentProvider, eventID: String, eventType: String, payload: PGRawJSON,
        eventCreated: Date?, alongside: PGQuery?
    ) async throws -> (row: Int64?, alongside: PGResult?) {
        let claim: PGQuery = """
            INSERT INTO payment_events (provider, event_id, event_type, status, attempts, payload, event_created,
                processed_at)
            VALUES (\(provider.rawValue), \(eventID), \(eventType), 'processed', 1, \(payload), \(eventCreated), now())
            ON CONFLICT (provider, event_id) DO NOTHING
            RETURNING id
            """
        let results = try await tx.pipeline([claim] + [alongside].compactMap { $0 })
        return (try results.first?.first?.decode("id", as: Int64.self), results.count > 1 ? results[1] : nil)
    }

    /// Keeps an authenticated body that cannot be applied as it is — it does not decode, or jsonb cannot hold it —
    /// byte for byte (`raw_body`), `dead`, with the reason, so nothing a provider was charged for is lost.
    /// - Parameter eventID: the event's own id when it has a usable one, else `raw:<sha256 of the body>`.
    /// - Returns: the row id, or nil when a row with this id exists already (a redelivery).
    @discardableResult
    public static func recordRaw(
        _ connection: PGConnection, provider: PaymentProvider, eventID: String?, eventType: String, body: Data,
        error: String
    ) async throws -> Int64? {
        let key =
            eventID.flatMap { id in
                id.count <= 255 && !id.isEmpty && id.unicodeScalars.allSatisfy { $0.value >= 0x20 && $0.value < 0x7F } ? id : nil
            } ?? "raw:" + Hex.encode(SHA256.hash(data: body))
        let type =
            eventType.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value < 0x7F }) && !eventType.isEmpty
            ? String(eventType.prefix(255)) : "undecodable"
        return try await connection.query(
            """
            INSERT INTO payment_events (provider, event_id, event_type, status, attempts, payload, raw_body, last_error)
            VALUES (\(provider.rawValue), \(key), \(type), 'dead', 1, NULL, \(body), \(String(error.prefix(1000))))
            ON CONFLICT (provider, event_id) DO NOTHING
            RETURNING id
            """
        ).first?.decode("id", as: Int64.self)
    }

    /// Marks a claimed event as `ignored` (an event type we do not act on) or back to `processed`.
    public static func setStatus(_ tx: PGConnection, id: Int64, status: PaymentEventStatus) async throws {
        // Nothing to read back: it goes out with the COMMIT.
        try await tx.executeLater(
            "UPDATE payment_events SET status = \(status.rawValue), processed_at = now() WHERE id = \(id)")
    }

    /// Records a failed event for the retry worker, in its own transaction after the failed one rolled back.
    /// Never downgrades an event that some other delivery processed meanwhile.
    /// - Returns: the row id, or nil when the event is already processed or ignored.
    @discardableResult
    public static func recordFailure(
        _ connection: PGConnection, provider: PaymentProvider, eventID: String, eventType: String, payload: PGRawJSON,
        eventCreated: Date?, error: String, retryIn: Duration
    ) async throws -> Int64? {
        let retrySeconds = retryIn.inSeconds
        return try await connection.query(
            """
            INSERT INTO payment_events AS p (provider, event_id, event_type, status, attempts, next_attempt_at,
                last_error, payload, event_created)
            VALUES (\(provider.rawValue), \(eventID), \(eventType), 'failed', 1,
                now() + make_interval(secs => \(retrySeconds)), \(String(error.prefix(1000))), \(payload), \(eventCreated))
            ON CONFLICT (provider, event_id) DO UPDATE SET
                status = 'failed', attempts = p.attempts + 1, last_error = EXCLUDED.last_error,
                next_attempt_at = EXCLUDED.next_attempt_at
            WHERE p.status IN ('received', 'failed')
            RETURNING id
            """
        ).first?.decode("id", as: Int64.self)
    }

    /// Lists ledger rows for operators, newest first.
    public static func list(
        _ connection: PGConnection, status: PaymentEventStatus?, provider: PaymentProvider?, limit: Int
    ) async throws -> [PaymentEvent] {
        try await connection.query(
            """
            SELECT id, provider, event_id, event_type, status, attempts, last_error, received_at, processed_at,
                next_attempt_at
            FROM payment_events
            WHERE (\(status?.rawValue)::text IS NULL OR status = \(status?.rawValue))
              AND (\(provider?.rawValue)::text IS NULL OR provider = \(provider?.rawValue))
            ORDER BY received_at DESC, id DESC
            LIMIT \(max(1, min(limit, 500)))
            """
        ).map(decode)
    }

    /// One ledger row by id.
    public static func find(_ connection: PGConnection, id: Int64) async throws -> PaymentEvent? {
        try await connection.query(
            """
            SELECT id, provider, event_id, event_type, status, attempts, last_error, received_at, processed_at,
                next_attempt_at
            FROM payment_events WHERE id = \(id)
            """
        ).first.map(decode)
    }

    static func decode(_ row: PGRow) throws -> PaymentEvent {
        PaymentEvent(
            id: try row.decode("id"),
            provider: PaymentProvider(rawValue: try row.decode("provider", as: String.self)) ?? .stripe,
            eventID: try row.decode("event_id"),
            eventType: try row.decode("event_type"),
            status: PaymentEventStatus(rawValue: try row.decode("status", as: String.self)) ?? .received,
            attempts: try row.decode("attempts"),
            lastError: try row.decode("last_error"),
            receivedAt: try row.decode("received_at"),
            processedAt: try row.decode("processed_at"),
            nextAttemptAt: try row.decode("next_attempt_at"))
    }
}
