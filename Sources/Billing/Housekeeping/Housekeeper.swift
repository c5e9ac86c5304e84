import Foundation
import PGClient
import Synchronization

/// One housekeeping round: under a session advisory lock (one instance at a time; the others skip the round), each
/// purge runs in batches of `batchSize` rows, one short transaction per batch, until a batch comes back short or
/// `stop` is set (graceful shutdown: the batch in flight commits, the rest waits for the next round).
///
/// Purged: `telegram_updates` older than the updates retention (never under 24 h), expired Mini App sessions,
/// finished idempotency keys older than a day (abandoned ones after 7), and bodies of processed payment events
/// older than the payload retention (the rows stay).
public struct Housekeeper: Sendable {
    let pool: PGPool
    let updatesRetention: TimeInterval
    let payloadRetention: TimeInterval
    /// Rows per batch (per transaction).
    public var batchSize = 5000
    /// The clock the cut-offs are computed from.
    public var now: @Sendable () -> Date = { Date() }

    /// - Parameters:
    ///   - pool: the round holds one connection of it for its whole length (the lock is that session's).
    ///   - updatesRetention: how long processed `update_id`s are kept (raised to 24 h when shorter).
    ///   - payloadRetention: how long bodies of processed payment events are kept.
    public init(pool: PGPool, updatesRetention: TimeInterval, payloadRetention: TimeInterval) {
        self.pool = pool
        self.updatesRetention = updatesRetention
        self.payloadRetention = payloadRetention
    }

    /// Rows each purge touched in a round.
    public struct Report: Sendable, Equatable {
        public var skipped = false
        public var telegramUpdates = 0
        public var sessions = 0
        public var idempotencyKeys = 0
        public var payloads = 0
        public var batches = 0

        public init(skipped: Bool = false, batches: Int = 0) {
            self.skipped = skipped
            self.batches = batches
        }
    }

    /// A flag graceful shutdown sets; the round checks it between batches.
    public final class StopFlag: Sendable {
        private let value = Atomic<Bool>(false)
        public init() {}
        public func set() { value.store(true, ordering: .relaxed) }
        public var isSet: Bool { value.load(ordering: .relaxed) }
    }

    /// Runs one round on a connection of its own (batches commit one by one on it).
    public func round(stop: StopFlag = StopFlag()) async throws -> Report {
        let now = self.now()
        let updatesCutoff = now.addingTimeInterval(-max(updatesRetention, HousekeepingStore.minimumUpdateRetention))
        let payloadCutoff = now.addingTimeInterval(-payloadRetention)
        let day: TimeInterval = 86_400
        let batch = batchSize
        return try await pool.withConnection { connection in
            guard try await connection.tryAdvisoryLock(HousekeepingStore.lockKey) else { return Report(skipped: true) }
            var report = Report()
            func drain(_ purge: (PGConnection) async throws -> Int) async throws -> Int {
                var total = 0
                while !stop.isSet {
                    let purged = try await connection.inTransaction(isolation: .readCommitted) { tx in try await purge(tx) }
                    report.batches += 1
                    total += purged
                    if purged < batch { break }
                }
                return total
            }
            // A session lock: released by hand, on every path (and with the session if the process dies).
            do {
                report.telegramUpdates = try await drain {
                    try await HousekeepingStore.purgeTelegramUpdates($0, before: updatesCutoff, batch: batch, now: now)
                }
                report.sessions = try await drain {
                    try await HousekeepingStore.purgeExpiredSessions($0, before: now, batch: batch)
                }
                report.idempotencyKeys = try await drain {
                    try await HousekeepingStore.purgeIdempotencyKeys(
                        $0, finishedBefore: now.addingTimeInterval(-day), abandonedBefore: now.addingTimeInterval(-7 * day),
                        batch: batch)
                }
                report.payloads = try await drain {
                    try await HousekeepingStore.purgePayloads($0, before: payloadCutoff, batch: batch)
                }
            } catch {
                _ = try? await connection.advisoryUnlock(HousekeepingStore.lockKey)
                throw error
            }
            _ = try? await connection.advisoryUnlock(HousekeepingStore.lockKey)
            return report
        }
    }
}
