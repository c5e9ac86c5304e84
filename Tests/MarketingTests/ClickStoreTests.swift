import Foundation
import Marketing
import PGClient
import Support
import TestSupport
import Testing

@Suite struct ClickStoreTests {
    @Test func createdClickCanBeReadBackByItsOwner() async throws {
        try await TestDatabase.with { _, pool in
            let metrics = TestMetrics()
            let service = ClickService(pool: pool, metrics: MarketingMetrics(factory: metrics))
            let user = try await MarketingFixtures.user(pool, telegramID: 501)
            let click = NewClick(
                ctaType: "upgrade", channel: "miniapp", utmSource: "tg", utmCampaign: "spring",
                metadata: [
                    "plan": .string("premium"), "n": .integer(3), "ok": .bool(true),
                    "nested": .object(["a": .array([.number(1.5), .null])]),
                ])
            let id = try await service.create(userID: user, click: click)
            let read = try await service.get(userID: user, id: id)
            #expect(read.id == id)
            #expect(read.userID == user)
            #expect(read.ctaType == "upgrade")
            #expect(read.channel == "miniapp")
            #expect(read.utmSource == "tg")
            #expect(read.utmCampaign == "spring")
            #expect(read.metadata == click.metadata)
            #expect(read.createdAt == read.updatedAt)
            #expect(metrics.value("marketing_clicks_total", [("cta_type", "upgrade")]) == 1)
        }
    }

    @Test func anotherUsersClickIsNotFoundForGetAndPatch() async throws {
        try await TestDatabase.with { _, pool in
            let service = ClickService(pool: pool)
            let owner = try await MarketingFixtures.user(pool, telegramID: 502)
            let other = try await MarketingFixtures.user(pool, telegramID: 503)
            let id = try await service.create(userID: owner, click: NewClick(ctaType: "buy", metadata: ["k": .string("v")]))
            await #expect(throws: ClickError.notFound) { try await service.get(userID: other, id: id) }
            await #expect(throws: ClickError.notFound) {
                try await service.patchMetadata(userID: other, id: id, patch: ["k": .string("stolen")])
            }
            await #expect(throws: ClickError.notFound) { try await service.get(userID: owner, id: id + 1000) }
            // The owner's click is untouched and the other user's list is empty.
            #expect(try await service.get(userID: owner, id: id).metadata == ["k": .string("v")])
            #expect(try await service.list(userID: other, limit: nil, cursor: nil).clicks.isEmpty)
        }
    }

    @Test func patchMergesTopLevelKeysAndNullRemovesAKey() async throws {
        try await TestDatabase.with { _, pool in
            let service = ClickService(pool: pool)
            let user = try await MarketingFixtures.user(pool, telegramID: 504)
            let id = try await service.create(
                userID: user,
                click: NewClick(
                    ctaType: "promo",
                    metadata: [
                        "keep": .integer(1), "change": .string("old"), "drop": .bool(true),
                        "obj": .object(["a": .integer(1), "b": .integer(2)]),
                    ]))
            let before = try await service.get(userID: user, id: id)
            try await Task.sleep(for: .milliseconds(5))
            let after = try await service.patchMetadata(
                userID: user, id: id,
                patch: ["change": .string("new"), "drop": .null, "added": .array([.integer(1)]), "obj": .object(["c": .integer(3)])])
            #expect(
                after.metadata == [
                    "keep": .integer(1), "change": .string("new"), "added": .array([.integer(1)]), "obj": .object(["c": .integer(3)]),
                ])
            #expect(after.updatedAt > before.updatedAt)
            #expect(after.createdAt == before.createdAt)
            #expect(try await service.get(userID: user, id: id) == after)
        }
    }

    @Test func invalidFieldsAreRejectedBeforeTheDatabase() async throws {
        try await TestDatabase.with { _, pool in
            let service = ClickService(pool: pool)
            let user = try await MarketingFixtures.user(pool, telegramID: 505)
            let long = String(repeating: "x", count: 129)
            let cases: [(NewClick, ClickField)] = [
                (NewClick(ctaType: ""), .ctaType),
                (NewClick(ctaType: "Buy"), .ctaType),
                (NewClick(ctaType: "buy-now"), .ctaType),
                (NewClick(ctaType: String(repeating: "a", count: 33)), .ctaType),
                (NewClick(ctaType: "buy", channel: long), .channel),
                (NewClick(ctaType: "buy", utmSource: long), .utmSource),
                (NewClick(ctaType: "buy", utmCampaign: long), .utmCampaign),
                (NewClick(ctaType: "buy", channel: "a\u{0}b"), .channel),
                (NewClick(ctaType: "buy", metadata: ["big": .string(String(repeating: "y", count: 4100))]), .metadata),
                (NewClick(ctaType: "buy", metadata: ["nul": .string("a\u{0}")]), .metadata),
            ]
            for (click, field) in cases {
                do {
                    _ = try await service.create(userID: user, click: click)
                    Issue.record("accepted an invalid \(field)")
                } catch let ClickError.invalid(reported, _) {
                    #expect(reported == field)
                }
            }
            // Limits are inclusive: 32-character type, 128-character fields; empty optional strings are absent.
            let id = try await service.create(
                userID: user,
                click: NewClick(ctaType: String(repeating: "a", count: 32), channel: String(repeating: "é", count: 128), utmSource: ""))
            let stored = try await service.get(userID: user, id: id)
            #expect(stored.utmSource == nil)
            #expect(stored.channel?.count == 128)
            #expect(try await MarketingFixtures.count(pool, "SELECT count(*) FROM marketing_clicks") == 1)
        }
    }

    @Test func theDatabaseEnforcesTheSameLimits() async throws {
        try await TestDatabase.with { _, pool in
            let user = try await MarketingFixtures.user(pool, telegramID: 506)
            let violations: [PGQuery] = [
                "INSERT INTO marketing_clicks (user_id, cta_type) VALUES (\(user), 'Bad Type')",
                "INSERT INTO marketing_clicks (user_id, cta_type, channel) VALUES (\(user), 'buy', repeat('x', 129))",
                "INSERT INTO marketing_clicks (user_id, cta_type, metadata) VALUES (\(user), 'buy', '[1]')",
                "INSERT INTO marketing_clicks (user_id, cta_type, metadata) VALUES (\(user), 'buy', jsonb_build_object('k', repeat('x', 4100)))",
            ]
            for query in violations {
                await #expect(throws: PGError.self) { try await pool.withConnection { try await $0.execute(query) } }
            }
            // A merge that grows metadata past 4 KB is refused by the constraint and reported as a metadata error.
            let service = ClickService(pool: pool)
            let id = try await service.create(
                userID: user, click: NewClick(ctaType: "buy", metadata: ["a": .string(String(repeating: "x", count: 3000))]))
            await #expect(throws: ClickError.invalid(field: .metadata, reason: "must be at most 4096 bytes of JSON")) {
                try await service.patchMetadata(userID: user, id: id, patch: ["b": .string(String(repeating: "y", count: 3000))])
            }
            #expect(try await service.get(userID: user, id: id).metadata.keys.sorted() == ["a"])
        }
    }

    @Test func pagesCoverEveryClickOnceNewestFirst() async throws {
        try await TestDatabase.with { _, pool in
            let service = ClickService(pool: pool)
            let user = try await MarketingFixtures.user(pool, telegramID: 507)
            let other = try await MarketingFixtures.user(pool, telegramID: 508)
            // Many clicks share a created_at (one statement), so the id breaks ties.
            let ids = try await pool.withConnection { connection in
                try await connection.query(
                    """
                    INSERT INTO marketing_clicks (user_id, cta_type, created_at)
                    SELECT \(user), 'buy', now() - (g % 7) * interval '1 second' FROM generate_series(1, 53) g
                    RETURNING id
                    """
                ).map { try $0.decode("id", as: Int64.self) }
            }
            _ = try await service.create(userID: other, click: NewClick(ctaType: "buy"))
            var seen: [Click] = []
            var cursor: String?
            var pages = 0
            repeat {
                let page = try await service.list(userID: user, limit: 10, cursor: cursor)
                seen += page.clicks
                cursor = page.nextCursor
                pages += 1
                #expect(page.clicks.count == (cursor == nil ? 3 : 10))
            } while cursor != nil && pages < 20
            #expect(pages == 6)
            #expect(seen.map(\.id).sorted() == ids.sorted())
            #expect(Set(seen.map(\.id)).count == 53)
            // Newest first: (created_at, id) strictly decreasing.
            for (a, b) in zip(seen, seen.dropFirst()) {
                #expect(a.createdAt > b.createdAt || (a.createdAt == b.createdAt && a.id > b.id))
            }
            #expect(seen.allSatisfy { $0.userID == user })
            let first = try await service.list(userID: user, limit: nil, cursor: nil)
            #expect(first.clicks.count == 20)
            let exact = try await service.list(userID: user, limit: 53, cursor: nil)
            #expect(exact.clicks.count == 53 && exact.nextCursor == nil)
        }
    }

    @Test func badLimitsAndCursorsAreRejected() async throws {
        try await TestDatabase.with { _, pool in
            let service = ClickService(pool: pool)
            let user = try await MarketingFixtures.user(pool, telegramID: 509)
            await #expect(throws: ClickError.invalidLimit) { try await service.list(userID: user, limit: 0, cursor: nil) }
            await #expect(throws: ClickError.invalidLimit) { try await service.list(userID: user, limit: 101, cursor: nil) }
            for cursor in ["nope", "AAAAAAAAAAAAAAAAAAAAAA", "!!!!!!!!!!!!!!!!!!!!!!", String(repeating: "A", count: 23)] {
                await #expect(throws: ClickError.invalidCursor) { try await service.list(userID: user, limit: 5, cursor: cursor) }
            }
            #expect(try await service.list(userID: user, limit: 100, cursor: nil).nextCursor == nil)
        }
    }

    @Test func unknownUserIsReportedAsSuch() async throws {
        try await TestDatabase.with { _, pool in
            let service = ClickService(pool: pool)
            await #expect(throws: ClickError.unknownUser) { try await service.create(userID: 987_654, click: NewClick(ctaType: "buy")) }
        }
    }

    @Test func clickJSONUsesTheAPIsKeys() throws {
        let click = Click(
            id: 7, userID: 3, ctaType: "buy", channel: nil, utmSource: "tg", utmCampaign: nil, metadata: ["a": .integer(1)],
            createdAt: Date(timeIntervalSince1970: 0), updatedAt: Date(timeIntervalSince1970: 0))
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let text = String(decoding: try encoder.encode(ClickPage(clicks: [click], nextCursor: nil)), as: UTF8.self)
        #expect(text.contains(#""cta_type":"buy""#))
        #expect(text.contains(#""utm_source":"tg""#))
        #expect(text.contains(#""user_id":3"#))
        #expect(text.contains(#""metadata":{"a":1}"#))
        #expect(text.contains(#""channel":null"#))
        #expect(text.contains(#""next_cursor":null"#))
        let status = String(
            decoding: try encoder.encode(SchedulerStatus(campaign: "default", paused: false, updatedAt: nil, updatedBy: nil)), as: UTF8.self
        )
        #expect(status == #"{"campaign":"default","paused":false,"updated_at":null,"updated_by":null}"#)
        let decoded = try JSONDecoder().decode(
            [String: JSONValue].self, from: Data(#"{"i": 12345678901234567, "d": 1.25, "s": "x", "n": null, "b": false}"#.utf8))
        #expect(decoded == ["i": .integer(12_345_678_901_234_567), "d": .number(1.25), "s": .string("x"), "n": .null, "b": .bool(false)])
    }
}
