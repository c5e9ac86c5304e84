import Billing
import Foundation
import Hummingbird
import PGClient
import Support

/// `GET /admin/v1/payment-events?status=&provider=&type=&user_id=|telegram_id=&limit=&cursor=`: the ledger newest
/// first, filtered, in keyset pages (`next_cursor`, the same opaque cursor as the Mini App's invoice list).
enum AdminPaymentEventPage {
    static func handle(_ request: Request, pool: PGPool) async throws -> PaymentEventList {
        let parameters = request.uri.queryParameters
        var query = PaymentEventQuery()
        query.status = try parameters["status"].map { text throws(ProblemError) in
            guard let status = PaymentEventStatus(rawValue: String(text)) else {
                throw ProblemError.badRequest("status must be one of received, processed, failed, ignored, dead")
            }
            return status
        }
        query.provider = try parameters["provider"].map { text throws(ProblemError) in
            guard let provider = PaymentProvider(rawValue: String(text)) else {
                throw ProblemError.badRequest("provider must be stripe or telegram_stars")
            }
            return provider
        }
        query.eventType = try parameters["type"].map { text throws(ProblemError) in
            guard (1...255).contains(text.count) else { throw ProblemError.badRequest("type must be 1 to 255 characters") }
            return String(text)
        }
        query.limit = try APIFormat.limit(parameters["limit"].map(String.init), maximum: 500)
        query.after = try parameters["cursor"].map { text throws(ProblemError) in
            let position = try KeysetCursor.parameter(text)
            return (receivedAt: position.createdAt, id: position.id)
        }
        let userID = try positive(parameters["user_id"].map(String.init), name: "user_id")
        let telegramID = try positive(parameters["telegram_id"].map(String.init), name: "telegram_id")
        if userID != nil, telegramID != nil { throw ProblemError.badRequest("give at most one of user_id or telegram_id") }
        let filters = query
        let page =
            try await pool.withConnection { connection -> [PaymentEvent]? in
                var query = filters
                query.userID = userID
                if let telegramID {
                    // An unknown customer has no events: an empty page, not an error (the filter found nothing).
                    guard let user = try await CustomerLookupStore.user(connection, telegramID: telegramID) else { return nil }
                    query.userID = user.id
                }
                return try await PaymentLedger.page(connection, query)
            } ?? []
        let shown = Array(page.prefix(query.limit))
        let next = page.count > query.limit ? shown.last.map { KeysetCursor(createdAt: $0.receivedAt, id: $0.id).encoded } : nil
        return PaymentEventList(events: shown.map(PaymentEventList.Item.init), nextCursor: next)
    }

    private static func positive(_ text: String?, name: String) throws(ProblemError) -> Int64? {
        guard let text else { return nil }
        guard let value = Int64(text), value > 0 else { throw ProblemError.badRequest("\(name) must be a positive whole number") }
        return value
    }
}
