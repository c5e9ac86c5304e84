import Billing
import Foundation
import PGClient

/// Rows most billing tests need: a plan and a user.
enum BillingFixtures {
    static func plan(
        _ pool: PGPool, code: String = "premium_monthly", days: Int = 30, stars: Int? = 250,
        stripePrice: String? = "price_premium_monthly", recurring: Bool = true
    ) async throws {
        try await pool.withConnection { connection in
            try await connection.execute(
                """
                INSERT INTO plans (code, name, period_days, stripe_price_id, stars_price, recurring)
                VALUES (\(code), \(code), \(days), \(stripePrice), \(stars), \(recurring))
                ON CONFLICT (code) DO NOTHING
                """)
        }
    }

    static func user(_ pool: PGPool, telegramID: Int64 = 1001) async throws -> Int64 {
        try await pool.withConnection { connection in
            try await UserStore.upsert(
                connection, profile: TelegramProfile(telegramID: telegramID, username: "user\(telegramID)", firstName: "Ann")
            ).id
        }
    }

    static func count(_ pool: PGPool, _ query: PGQuery) async throws -> Int {
        try await pool.withConnection { connection in
            try await connection.query(query).first?.decode(at: 0, as: Int.self) ?? -1
        }
    }
}
