import Billing
import Foundation
import Marketing
import PGClient

/// Rows and helpers most marketing tests need.
enum MarketingFixtures {
    static func user(_ pool: PGPool, telegramID: Int64) async throws -> Int64 {
        try await pool.withConnection { connection in
            try await UserStore.upsert(connection, profile: TelegramProfile(telegramID: telegramID, username: "u\(telegramID)")).id
        }
    }

    static func count(_ pool: PGPool, _ query: PGQuery) async throws -> Int {
        try await pool.withConnection { connection in
            try await connection.query(query).first?.decode(at: 0, as: Int.self) ?? -1
        }
    }

    /// Inserts an active promo and returns its id.
    @discardableResult
    static func promo(
        _ pool: PGPool, campaign: String, position: Int, text: String,
        buttons: String = #"[[{"text": "Buy", "cta": "buy"}], [{"text": "Open", "url": "https://t.me/bot/app"}]]"#
    ) async throws -> Int64 {
        try await pool.withConnection { connection in
            try await connection.query(
                """
                INSERT INTO marketing_promos (campaign, position, text, buttons)
                VALUES (\(campaign), \(position), \(text), \(PGRawJSON(buttons))) RETURNING id
                """
            ).first?.decode("id", as: Int64.self) ?? -1
        }
    }

    /// A scheduler configuration for tests: short interval, quick polling and retries.
    static func schedulerConfiguration(
        campaign: String, interval: Duration = .seconds(1), instance: String, maxAttempts: Int = 3,
        sendLease: Duration = .seconds(10), retryWindow: Duration? = .seconds(30)
    ) -> PromoSchedulerConfiguration {
        PromoSchedulerConfiguration(
            chatID: "@promo_channel", campaign: campaign, interval: interval, pollInterval: .milliseconds(100),
            maxAttempts: maxAttempts, retryBaseDelay: .milliseconds(200), retryMaxDelay: .seconds(1),
            sendLease: sendLease, retryWindow: retryWindow, instanceID: instance)
    }

    /// Rows of `marketing_posts` for a campaign: (slot start, status, attempts, message id).
    static func posts(_ pool: PGPool, campaign: String) async throws
        -> [(slot: Date, status: String, attempts: Int, messageID: Int64?, lastError: String?)]
    {
        try await pool.withConnection { connection in
            try await connection.query(
                """
                SELECT slot_start, status, attempts, telegram_message_id, last_error FROM marketing_posts
                WHERE campaign = \(campaign) ORDER BY slot_start
                """
            ).map {
                (
                    try $0.decode("slot_start", as: Date.self), try $0.decode("status", as: String.self),
                    try $0.decode("attempts", as: Int.self), try $0.decode("telegram_message_id", as: Int64?.self),
                    try $0.decode("last_error", as: String?.self)
                )
            }
        }
    }
}
