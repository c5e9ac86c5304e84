import Billing
import PGClient
import TestSupport
import Testing

/// The one user upsert: what an absent profile field does to the stored one, for each kind of caller.
@Suite struct UserStoreTests {
    static let full = TelegramProfile(
        telegramID: 9101, username: "ada", firstName: "Ada", lastName: "Lovelace", languageCode: "en", isPremium: true)
    static let sparse = TelegramProfile(telegramID: 9101, firstName: "Ada")

    @Test func aPartialProfileKeepsWhatTelegramDidNotSend() async throws {
        try await TestDatabase.with { _, pool in
            let first = try await pool.withConnection { try await UserStore.upsert($0, profile: Self.full) }
            let again = try await pool.withConnection { try await UserStore.upsert($0, profile: Self.sparse) }
            #expect(again.id == first.id)
            #expect(again.username == "ada")
            #expect(again.lastName == "Lovelace")
            #expect(again.languageCode == "en")
            #expect(again.isPremium)
        }
    }

    @Test func aCompleteProfileClearsWhatItLacksButTheLanguage() async throws {
        try await TestDatabase.with { _, pool in
            let first = try await pool.withConnection { try await UserStore.upsert($0, profile: Self.full) }
            let complete = TelegramProfile(telegramID: 9101, firstName: "Ada", isPremium: false)
            let again = try await pool.withConnection {
                try await UserStore.upsert($0, profile: complete, missingFields: .cleared)
            }
            #expect(again.id == first.id)
            #expect(again.username == nil)
            #expect(again.lastName == nil)
            #expect(again.firstName == "Ada")
            #expect(again.languageCode == "en")
            #expect(!again.isPremium)
        }
    }

    @Test func concurrentFirstSightsOfOneUserMakeOneRow() async throws {
        try await TestDatabase.with { _, pool in
            let ids = try await withThrowingTaskGroup(of: Int64.self) { group in
                for index in 0..<20 {
                    group.addTask {
                        try await pool.withConnection {
                            try await UserStore.upsert(
                                $0, profile: index.isMultiple(of: 2) ? Self.full : Self.sparse,
                                missingFields: index.isMultiple(of: 3) ? .cleared : .kept
                            ).id
                        }
                    }
                }
                return try await group.reduce(into: Set<Int64>()) { $0.insert($1) }
            }
            #expect(ids.count == 1)
            let rows = try await pool.withConnection {
                try await $0.query("SELECT count(*) AS n FROM users WHERE telegram_user_id = 9101").first?.decode(
                    "n", as: Int64.self)
            }
            #expect(rows == 1)
        }
    }
}
