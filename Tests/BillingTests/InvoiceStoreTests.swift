import Billing
import Foundation
import PGClient
import TestSupport
import Testing

@Suite struct InvoiceStoreTests {
    @Test func statusNeverMovesBackwards() async throws {
        try await TestDatabase.with { _, pool in
            let userID = try await BillingFixtures.user(pool)
            let created = Date(timeIntervalSince1970: 1_700_000_000)
            @Sendable func invoice(_ status: InvoiceStatus) -> Invoice {
                Invoice(
                    provider: .stripe, providerInvoiceID: "in_1", userID: userID, plan: nil, amount: 999,
                    currency: "usd", status: status, hostedURL: "https://pay.example/in_1", createdAt: created)
            }
            let results = try await pool.transaction { tx in
                [
                    try await InvoiceStore.upsert(tx, invoice(.open)).status,
                    try await InvoiceStore.upsert(tx, invoice(.paid)).status,
                    try await InvoiceStore.upsert(tx, invoice(.open)).status,
                    try await InvoiceStore.upsert(tx, invoice(.refunded)).status,
                    try await InvoiceStore.upsert(tx, invoice(.paid)).status,
                ]
            }
            #expect(results == [.open, .paid, .paid, .refunded, .refunded])
            let stored = try await pool.withConnection {
                try await InvoiceStore.find($0, provider: .stripe, providerInvoiceID: "in_1")
            }
            #expect(stored?.currency == "USD")
            #expect(stored?.createdAt == created)
        }
    }

    @Test func keysetPagesHaveNoDuplicatesOrGapsWhileNewInvoicesArrive() async throws {
        try await TestDatabase.with { _, pool in
            let userID = try await BillingFixtures.user(pool)
            let base = Date(timeIntervalSince1970: 1_700_000_000)
            try await pool.transaction { tx in
                for index in 0..<25 {
                    // Pairs share a created_at so the id tie-breaker matters.
                    try await InvoiceStore.upsert(
                        tx,
                        Invoice(
                            provider: index % 2 == 0 ? .stripe : .telegramStars, providerInvoiceID: "inv_\(index)",
                            userID: userID, plan: nil, amount: Int64(index), currency: index % 2 == 0 ? "USD" : "XTR",
                            status: .paid, createdAt: base.addingTimeInterval(Double(index / 2) * 60)))
                }
            }
            var seen: [String] = []
            var cursor: (Date, Int64)?
            repeat {
                let page = try await pool.withConnection { [cursor] connection in
                    try await InvoiceStore.page(connection, userID: userID, limit: 7, after: cursor.map { ($0.0, $0.1) })
                }
                seen += page.map(\.providerInvoiceID)
                cursor = page.count == 7 ? page.last.map { ($0.createdAt, $0.id) } : nil
                // A new invoice arrives between pages: it is newer, so it must not shift later pages.
                let newID = "new_\(seen.count)"
                _ = try await pool.transaction { tx in
                    try await InvoiceStore.upsert(
                        tx,
                        Invoice(
                            provider: .stripe, providerInvoiceID: newID, userID: userID, plan: nil, amount: 1,
                            currency: "USD", status: .open, createdAt: Date()))
                }
            } while cursor != nil
            #expect(seen.count == 25)
            #expect(Set(seen).count == 25)
            #expect(seen.first == "inv_24")
        }
    }
}
