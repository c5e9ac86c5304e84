import Foundation
import PGClient
import Support

/// What `IdempotencyStore.begin` decided for a request.
public enum IdempotencyDecision: Sendable, Equatable {
    /// This request owns the key: do the work, then `finish` (or `release` on failure).
    case proceed(recordID: Int64)
    /// The key already finished with this body: answer it again, call nobody.
    case replay(body: String)
}

/// Why a keyed request cannot run.
public enum IdempotencyConflict: Error, Sendable, Equatable {
    /// The key was used with another request body (422).
    case keyReused
    /// The first request with this key is still running (409).
    case inFlight
}

/// `idempotency_keys`: one row per (user, key) holding the request's hash, a lock timestamp, a recovery point and
/// the stored response (the pattern Stripe's API uses for its own Idempotency-Key).
public enum IdempotencyStore {
    /// A lock older than this belongs to a request that died; a retry may take the key over.
    public static let lockTimeout: Duration = .seconds(60)
    /// Keys are kept at least this long; housekeeping (`HousekeepingStore.purgeIdempotencyKeys`) deletes finished ones
    /// after a day and abandoned ones after a week, in batches.
    public static let retention: Duration = .seconds(24 * 3600)

    /// Claims the key or reports what happened to it. Run in its own short transaction before the provider call.
    public static func begin(
        _ tx: PGConnection, userID: Int64, key: String, path: String, requestHash: String
    ) async throws -> IdempotencyDecision {
        if let id = try await tx.query(
            """
            INSERT INTO idempotency_keys (user_id, idempotency_key, request_path, request_hash, locked_at)
            VALUES (\(userID), \(key), \(path), \(requestHash), now())
            ON CONFLICT (user_id, idempotency_key) DO NOTHING
            RETURNING id
            """
        ).first?.decode("id", as: Int64.self) {
            return .proceed(recordID: id)
        }
        let lockSeconds = lockTimeout.inSeconds
        guard
            let row = try await tx.query(
                """
                SELECT id, request_path, request_hash, recovery_point, response_body::text AS body,
                    (locked_at IS NOT NULL AND locked_at > now() - make_interval(secs => \(lockSeconds))) AS locked
                FROM idempotency_keys WHERE user_id = \(userID) AND idempotency_key = \(key)
                FOR UPDATE
                """
            ).first
        else {
            // Purged between the two statements: the caller may simply retry.
            throw IdempotencyConflict.inFlight
        }
        guard try row.decode("request_hash", as: String.self) == requestHash,
            try row.decode("request_path", as: String.self) == path
        else { throw IdempotencyConflict.keyReused }
        if try row.decode("recovery_point", as: String.self) == "finished", let body = try row.decode("body", as: String?.self) {
            return .replay(body: body)
        }
        if try row.decode("locked", as: Bool.self) { throw IdempotencyConflict.inFlight }
        let id = try row.decode("id", as: Int64.self)
        try await tx.execute("UPDATE idempotency_keys SET locked_at = now(), last_run_at = now() WHERE id = \(id)")
        return .proceed(recordID: id)
    }

    /// Stores the response and unlocks the key.
    public static func finish(_ connection: PGConnection, recordID: Int64, status: Int, body: String) async throws {
        try await connection.execute(
            """
            UPDATE idempotency_keys
            SET recovery_point = 'finished', response_status = \(status), response_body = \(PGRawJSON(body)),
                locked_at = NULL
            WHERE id = \(recordID)
            """)
    }

    /// Unlocks the key without a response (the provider call failed), so the client's retry can run it again.
    public static func release(_ connection: PGConnection, recordID: Int64) async throws {
        try await connection.execute("UPDATE idempotency_keys SET locked_at = NULL WHERE id = \(recordID)")
    }
}
