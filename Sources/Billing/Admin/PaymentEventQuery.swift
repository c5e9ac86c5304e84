import Foundation
import PGClient

/// Filters and keyset position of an operator's page of the payment ledger (`GET /admin/v1/payment-events`).
public struct PaymentEventQuery: Sendable, Equatable {
    public var status: PaymentEventStatus?
    public var provider: PaymentProvider?
    /// Exact `event_type` (`invoice.paid`, `successful_payment`, …).
    public var eventType: String?
    /// Only events that concern this user (`users.id`); see `CustomerLookupStore.userEventIDs`.
    public var userID: Int64?
    /// Rows strictly after this (received_at, id) in the newest-first order.
    public var after: (receivedAt: Date, id: Int64)?
    public var limit: Int

    public init(
        status: PaymentEventStatus? = nil, provider: PaymentProvider? = nil, eventType: String? = nil,
        userID: Int64? = nil, after: (receivedAt: Date, id: Int64)? = nil, limit: Int = 20
    ) {
        self.status = status
        self.provider = provider
        self.eventType = eventType
        self.userID = userID
        self.after = after
        self.limit = limit
    }

    public static func == (lhs: PaymentEventQuery, rhs: PaymentEventQuery) -> Bool {
        lhs.status == rhs.status && lhs.provider == rhs.provider && lhs.eventType == rhs.eventType
            && lhs.userID == rhs.userID && lhs.after?.receivedAt == rhs.after?.receivedAt
            && lhs.after?.id == rhs.after?.id && lhs.limit == rhs.limit
    }
}

extension PaymentLedger {
    /// One page of the ledger, newest first (`received_at DESC, id DESC`), filtered.
    /// - Returns: up to `query.limit + 1` rows: a caller that gets more than `limit` knows there is a next page.
    public static func page(_ connection: PGConnection, _ query: PaymentEventQuery) async throws -> [PaymentEvent] {
        let limit = max(1, min(query.limit, 500)) + 1
        // A far-future position when there is no cursor keeps one statement (and one prepared plan).
        let afterTime = query.after?.receivedAt ?? Date(timeIntervalSince1970: 253_402_300_799)
        let afterID = query.after?.id ?? Int64.max
        return try await connection.query(
            """
            WITH target AS (SELECT \(query.userID)::bigint AS uid)
            SELECT id, provider, event_id, event_type, status, attempts, last_error, received_at, processed_at,
                next_attempt_at
            FROM payment_events
            WHERE (received_at, id) < (\(afterTime), \(afterID))
              AND (\(query.status?.rawValue)::text IS NULL OR status = \(query.status?.rawValue))
              AND (\(query.provider?.rawValue)::text IS NULL OR provider = \(query.provider?.rawValue))
              AND (\(query.eventType)::text IS NULL OR event_type = \(query.eventType))
              AND ((SELECT uid FROM target) IS NULL OR id IN (\(unsafeRaw: CustomerLookupStore.userEventIDs)))
            ORDER BY received_at DESC, id DESC
            LIMIT \(limit)
            """
        ).map(decode)
    }
}
