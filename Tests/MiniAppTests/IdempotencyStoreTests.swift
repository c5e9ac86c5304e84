import Billing
import Foundation
import MiniApp
import PGClient
import TestSupport
import Testing

@Suite struct IdempotencyStoreTests {
    static func user(_ pool: PGPool) async throws -> Int64 {
        try await pool.withConnection { try await UserStore.upsert($0, profile: TelegramProfile(telegramID: 77)).id }
    }

    @Test func sameKeyAndBodyReplaysTheStoredAnswer() async throws {
        try await TestDatabase.with { _, pool in
            let userID = try await Self.user(pool)
            let first = try await pool.transaction { tx in
                try await IdempotencyStore.begin(tx, userID: userID, key: "k1", path: "/checkout", requestHash: "h1")
            }
            guard case .proceed(let recordID) = first else {
                Issue.record("first request must proceed")
                return
            }
            try await pool.withConnection { try await IdempotencyStore.finish($0, recordID: recordID, status: 200, body: #"{"url":"u"}"#) }
            let second = try await pool.transaction { tx in
                try await IdempotencyStore.begin(tx, userID: userID, key: "k1", path: "/checkout", requestHash: "h1")
            }
            #expect(second == .replay(body: #"{"url": "u"}"#))
        }
    }

    @Test func sameKeyWithAnotherBodyIsRefused() async throws {
        try await TestDatabase.with { _, pool in
            let userID = try await Self.user(pool)
            _ = try await pool.transaction { tx in
                try await IdempotencyStore.begin(tx, userID: userID, key: "k1", path: "/checkout", requestHash: "h1")
            }
            await #expect(throws: IdempotencyConflict.keyReused) {
                try await pool.transaction { tx in
                    try await IdempotencyStore.begin(tx, userID: userID, key: "k1", path: "/checkout", requestHash: "other")
                }
            }
        }
    }

    @Test func concurrentFirstUsesLetExactlyOneProceed() async throws {
        try await TestDatabase.with(poolSize: 8) { _, pool in
            let userID = try await Self.user(pool)
            let outcomes = try await withThrowingTaskGroup(of: String.self) { group in
                for _ in 0..<20 {
                    group.addTask {
                        do {
                            let decision = try await pool.transaction { tx in
                                try await IdempotencyStore.begin(tx, userID: userID, key: "same", path: "/checkout", requestHash: "h")
                            }
                            if case .proceed = decision { return "proceed" }
                            return "replay"
                        } catch IdempotencyConflict.inFlight {
                            return "inFlight"
                        }
                    }
                }
                return try await group.reduce(into: [String: Int]()) { $0[$1, default: 0] += 1 }
            }
            #expect(outcomes["proceed"] == 1)
            #expect(outcomes["inFlight"] == 19)
        }
    }

    @Test func aReleasedKeyCanRunAgain() async throws {
        try await TestDatabase.with { _, pool in
            let userID = try await Self.user(pool)
            let first = try await pool.transaction { tx in
                try await IdempotencyStore.begin(tx, userID: userID, key: "k", path: "/checkout", requestHash: "h")
            }
            guard case .proceed(let recordID) = first else {
                Issue.record("first request must proceed")
                return
            }
            try await pool.withConnection { try await IdempotencyStore.release($0, recordID: recordID) }
            let retry = try await pool.transaction { tx in
                try await IdempotencyStore.begin(tx, userID: userID, key: "k", path: "/checkout", requestHash: "h")
            }
            #expect(retry == .proceed(recordID: recordID))
        }
    }
}
