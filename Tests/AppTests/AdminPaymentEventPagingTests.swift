import Foundation
import PGClient
import TestSupport
import Testing

@testable import App

/// `GET /admin/v1/payment-events`: keyset pages (`next_cursor`) and filters.
@Suite struct AdminPaymentEventPagingTests {
    /// 25 events a minute apart (event 1 newest): even ones Stripe `invoice.paid`, odd ones Stars payments; every
    /// fifth failed.
    static func seed(_ pool: PGPool) async throws {
        _ = try await pool.withConnection { connection in
            try await connection.execute(
                """
                INSERT INTO payment_events (provider, event_id, event_type, status, attempts, payload, received_at,
                    next_attempt_at)
                SELECT CASE WHEN i % 2 = 0 THEN 'stripe' ELSE 'telegram_stars' END, 'evt_page_' || i,
                    CASE WHEN i % 2 = 0 THEN 'invoice.paid' ELSE 'successful_payment' END,
                    CASE WHEN i % 5 = 0 THEN 'failed' ELSE 'processed' END, 1, '{}'::jsonb,
                    now() - make_interval(mins => i), CASE WHEN i % 5 = 0 THEN now() END
                FROM generate_series(1, 25) AS i
                """)
        }
    }

    static func page(_ app: AdminAppHarness, _ query: String) async throws -> (ids: [String], next: String?) {
        let response = try await app.admin(.get, "/admin/v1/payment-events?\(query)")
        try #require(response.status == .ok, "\(query): \(response.status)")
        let body = try #require(response.json)
        #expect(body.keys.contains("next_cursor"))
        let events = body["events"] as? [[String: Any]] ?? []
        return (events.compactMap { $0["event_id"] as? String }, body["next_cursor"] as? String)
    }

    @Test func pagesWalkTheWholeLedgerNewestFirstOnce() async throws {
        try await AdminAppHarness.with { app in
            try await Self.seed(app.pool)
            var seen: [String] = []
            var cursor: String?
            var pages = 0
            repeat {
                let page = try await Self.page(app, "limit=10" + (cursor.map { "&cursor=\($0)" } ?? ""))
                seen += page.ids
                cursor = page.next
                pages += 1
            } while cursor != nil && pages < 10
            #expect(pages == 3)
            #expect(seen == (1...25).map { "evt_page_\($0)" })
        }
    }

    @Test func filtersCombineWithPaging() async throws {
        try await AdminAppHarness.with { app in
            try await Self.seed(app.pool)
            let stripe = try await Self.page(app, "provider=stripe&limit=100")
            #expect(stripe.ids == stride(from: 2, through: 24, by: 2).map { "evt_page_\($0)" })
            #expect(stripe.next == nil)
            let failedStripe = try await Self.page(app, "provider=stripe&status=failed")
            #expect(failedStripe.ids == ["evt_page_10", "evt_page_20"])
            let stars = try await Self.page(app, "type=successful_payment&limit=5")
            #expect(stars.ids == ["evt_page_1", "evt_page_3", "evt_page_5", "evt_page_7", "evt_page_9"])
            let rest = try await Self.page(app, "type=successful_payment&limit=5&cursor=\(try #require(stars.next))")
            #expect(rest.ids.first == "evt_page_11")
            // A customer the server does not know has no events.
            #expect(try await Self.page(app, "telegram_id=123456789").ids.isEmpty)
        }
    }

    @Test func badFiltersAre400ProblemJSON() async throws {
        try await AdminAppHarness.with { app in
            for query in [
                "status=bogus", "provider=paypal", "limit=0", "limit=501", "cursor=not-a-cursor", "user_id=-1",
                "user_id=1&telegram_id=2",
            ] {
                let response = try await app.admin(.get, "/admin/v1/payment-events?\(query)")
                #expect(response.status == .badRequest, "\(query)")
                #expect(response.headers[.contentType] == "application/problem+json")
            }
        }
    }
}
