import Billing
import Foundation
import PGClient
import TestSupport
import Testing

@testable import App

/// The housekeeping service: old rows go in small batches, recent ones stay, and Telegram's redelivery window is
/// never cut short.
@Suite struct HousekeepingTests {
    static let day: TimeInterval = 86_400

    /// Old and recent rows of every table housekeeping purges.
    static func seed(_ pool: PGPool) async throws {
        _ = try await pool.withConnection { connection in
            try await connection.execute(
                """
                INSERT INTO telegram_updates (update_id, kind, received_at)
                SELECT i, 'message', now() - interval '40 days' FROM generate_series(1, 7) AS i
                """)
            try await connection.execute(
                """
                INSERT INTO telegram_updates (update_id, kind, received_at) VALUES
                    (100, 'message', now() - interval '2 days'), (101, 'message', now() - interval '1 hour')
                """)
            let user =
                try await connection.query("INSERT INTO users (telegram_user_id) VALUES (9001) RETURNING id").first?
                .decode("id", as: Int64.self) ?? 0
            try await connection.execute(
                """
                INSERT INTO miniapp_sessions (jti, user_id, created_at, expires_at) VALUES
                    (gen_random_uuid(), \(user), now() - interval '2 days', now() - interval '2 days' + interval '15 minutes'),
                    (gen_random_uuid(), \(user), now() - interval '1 hour', now() - interval '45 minutes'),
                    (gen_random_uuid(), \(user), now(), now() + interval '15 minutes')
                """)
            try await connection.execute(
                """
                INSERT INTO idempotency_keys (user_id, idempotency_key, request_path, request_hash, recovery_point,
                    response_status, response_body, created_at) VALUES
                    (\(user), 'old-finished', '/x', 'h', 'finished', 200, '{}', now() - interval '2 days'),
                    (\(user), 'new-finished', '/x', 'h', 'finished', 200, '{}', now() - interval '1 hour'),
                    (\(user), 'old-started', '/x', 'h', 'started', NULL, NULL, now() - interval '2 days'),
                    (\(user), 'ancient-started', '/x', 'h', 'started', NULL, NULL, now() - interval '8 days')
                """)
            try await connection.execute(
                """
                INSERT INTO payment_events (provider, event_id, event_type, status, attempts, payload, received_at,
                    next_attempt_at) VALUES
                    ('stripe', 'evt_old', 'invoice.paid', 'processed', 1, '{"a":1}', now() - interval '100 days', NULL),
                    ('stripe', 'evt_old_ignored', 'x.y', 'ignored', 1, '{"a":1}', now() - interval '100 days', NULL),
                    ('stripe', 'evt_old_failed', 'invoice.paid', 'failed', 1, '{"a":1}', now() - interval '100 days', now()),
                    ('stripe', 'evt_new', 'invoice.paid', 'processed', 1, '{"a":1}', now() - interval '10 days', NULL)
                """)
        }
    }

    static func count(_ pool: PGPool, _ query: PGQuery) async throws -> Int {
        try await pool.withConnection { try await $0.query(query).first?.decode(at: 0, as: Int.self) ?? -1 }
    }

    @Test func oldRowsGoInBatchesAndRecentOnesStay() async throws {
        try await TestDatabase.with(poolSize: 2) { _, pool in
            try await Self.seed(pool)
            var housekeeper = Housekeeper(pool: pool, updatesRetention: 30 * Self.day, payloadRetention: 90 * Self.day)
            housekeeper.batchSize = 3
            let report = try await housekeeper.round()
            #expect(report.telegramUpdates == 7)
            #expect(report.sessions == 2)
            #expect(report.idempotencyKeys == 2)
            #expect(report.payloads == 2)
            #expect(report.batches >= 3 + 1 + 1 + 1, "7 updates in batches of 3 take three batches")
            #expect(try await Self.count(pool, "SELECT count(*) FROM telegram_updates") == 2)
            #expect(try await Self.count(pool, "SELECT count(*) FROM miniapp_sessions") == 1)
            #expect(
                try await Self.count(pool, "SELECT count(*) FROM idempotency_keys WHERE idempotency_key IN ('new-finished', 'old-started')")
                    == 2)
            #expect(try await Self.count(pool, "SELECT count(*) FROM idempotency_keys") == 2)
            // Payload rows stay; only the bodies of old processed and ignored events go.
            #expect(try await Self.count(pool, "SELECT count(*) FROM payment_events") == 4)
            #expect(
                try await Self.count(
                    pool,
                    "SELECT count(*) FROM payment_events WHERE payload IS NULL AND payload_purged_at IS NOT NULL AND event_id IN ('evt_old', 'evt_old_ignored')"
                )
                    == 2)
            #expect(
                try await Self.count(
                    pool, "SELECT count(*) FROM payment_events WHERE payload IS NOT NULL AND event_id IN ('evt_old_failed', 'evt_new')")
                    == 2)
            // A second round finds nothing more.
            let again = try await housekeeper.round()
            #expect(again == Housekeeper.Report(batches: 4))
        }
    }

    @Test func anotherInstanceHoldingTheLockMakesTheRoundSkip() async throws {
        try await TestDatabase.with(poolSize: 2) { database, pool in
            try await Self.seed(pool)
            // Another instance: a session of its own holding the lock.
            let other = try await PGConnection.connect(conninfo: database.conninfo)
            defer { other.close() }
            try await other.advisoryLock(HousekeepingStore.lockKey)
            let housekeeper = Housekeeper(pool: pool, updatesRetention: 30 * Self.day, payloadRetention: 90 * Self.day)
            #expect(try await housekeeper.round().skipped)
            #expect(try await Self.count(pool, "SELECT count(*) FROM telegram_updates") == 9)
            try await other.advisoryUnlock(HousekeepingStore.lockKey)
            #expect(try await housekeeper.round().telegramUpdates == 7)
        }
    }

    @Test func retentionNeverCutsTelegramsRedeliveryWindowSoARecentUpdateStaysADuplicate() async throws {
        try await TelegramAppHarness.with { app in
            let update = TelegramUpdates.text(updateID: 4242, "/paysupport")
            #expect(try await app.postUpdate(update).status == .ok)
            #expect(try app.webhookCount("processed") == 1)
            // Twelve hours later, housekeeping asked for no retention at all still keeps it (24 h minimum).
            _ = try await app.pool.withConnection { connection in
                try await connection.execute("UPDATE telegram_updates SET received_at = now() - interval '12 hours'")
            }
            let housekeeper = Housekeeper(pool: app.pool, updatesRetention: 0, payloadRetention: 90 * Self.day)
            #expect(try await housekeeper.round().telegramUpdates == 0)
            #expect(try await app.count("SELECT count(*) FROM telegram_updates WHERE update_id = 4242") == 1)
            let sentBefore = app.fake.calls("sendMessage").count
            #expect(try await app.postUpdate(update).status == .ok)
            #expect(try app.webhookCount("duplicate") == 1)
            #expect(app.fake.calls("sendMessage").count == sentBefore)
        }
    }

    @Test func aRetentionUnderOneDayIsRefusedAtStart() throws {
        #expect(throws: AppConfig.Invalid.self) {
            try AppTestSupport.config(["TELEGRAM_UPDATES_RETENTION_DAYS": "0"])
        }
        #expect(throws: AppConfig.Invalid.self) { try AppTestSupport.config(["PAYLOAD_RETENTION_DAYS": "0"]) }
        let config = try AppTestSupport.config()
        #expect(config.telegramUpdatesRetentionDays == 30)
        #expect(config.payloadRetentionDays == 90)
        #expect(config.housekeepingIntervalSeconds == 3600)
    }
}
