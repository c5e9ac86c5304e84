import Billing
import Foundation
import PGClient
import TestSupport
import Testing

@Suite struct PlanCatalogTests {
    private func issues(_ json: String) -> [PlanCatalogError.Issue] {
        do {
            _ = try PlanCatalog.parse(data: Data(json.utf8))
            return []
        } catch {
            if case .invalid(let issues) = error { return issues }
            return [PlanCatalogError.Issue(plan: "-", field: "-", problem: error.description)]
        }
    }

    @Test func theExampleFileIsValid() throws {
        let catalog = try PlanCatalog.load(path: TestEnvironment.repoRoot + "/plans.example.json")
        #expect(catalog.plans.map(\.code) == ["premium_monthly", "premium_yearly", "boost_week"])
        let boost = try #require(catalog.plans.last)
        #expect(boost.stripePriceID == nil)
        #expect(boost.starsPrice == 50)
        #expect(boost.recurring == false)
        #expect(boost.isSellable(by: .telegramStars))
        #expect(!boost.isSellable(by: .stripe))
    }

    @Test func validationNamesThePlanAndTheField() {
        let found = issues(
            """
            [{"code": "ok_plan", "name": "OK", "period_days": 30, "stars_price": -5, "colour": "red"},
             {"code": "Bad Code", "name": "x", "period_days": 1},
             {"code": "zero", "name": "Zero", "period_days": 0},
             {"code": "frac", "name": "Frac", "period_days": 1.5, "recurring": "yes"},
             {"name": "No code", "period_days": 3},
             {"code": "noname", "period_days": 3, "stripe_price_id": 42},
             {"code": "free", "name": "Free", "period_days": 3, "stars_price": 0}]
            """)
        let rendered = found.map(\.description)
        #expect(rendered.contains(#"plan "ok_plan": stars_price must be greater than 0 (got -5)"#))
        #expect(rendered.contains { $0.hasPrefix(#"plan "ok_plan": colour is not a known field"#) })
        #expect(rendered.contains { $0.hasPrefix(#"plan #2: code must match ^[a-z0-9][a-z0-9_]{0,63}$"#) })
        #expect(rendered.contains(#"plan "zero": period_days must be greater than 0 (got 0)"#))
        #expect(rendered.contains(#"plan "frac": period_days must be a whole number (got 1.5)"#))
        #expect(rendered.contains(#"plan "frac": recurring must be true or false (got "yes")"#))
        #expect(rendered.contains("plan #5: code is missing"))
        #expect(rendered.contains(#"plan "noname": name is missing"#))
        #expect(rendered.contains(#"plan "noname": stripe_price_id must be a string (got 42)"#))
        #expect(rendered.contains(#"plan "free": stars_price must be greater than 0 (got 0)"#))
        #expect(found.count == 10)
    }

    @Test func duplicateCodesAndSharedStripePricesAreRefused() {
        let rendered = issues(
            """
            [{"code": "a", "name": "A", "period_days": 1, "stripe_price_id": "price_1"},
             {"code": "a", "name": "A again", "period_days": 2},
             {"code": "b", "name": "B", "period_days": 1, "stripe_price_id": "price_1"}]
            """
        ).map(\.description)
        #expect(
            rendered == [
                #"plan "a": code appears more than once"#,
                #"plan "b": stripe_price_id "price_1" is already used by plan "a""#,
            ])
    }

    @Test func malformedFilesAreRefusedAsAWhole() {
        for (json, expected) in [
            ("{\"code\": \"a\"}", "top level must be a JSON array"), ("[1,", "not JSON"),
            ("[42]", "must be a JSON object"),
        ] {
            do {
                _ = try PlanCatalog.parse(data: Data(json.utf8))
                Issue.record("accepted \(json)")
            } catch {
                #expect(error.description.contains(expected), "\(error.description)")
            }
        }
        do {
            _ = try PlanCatalog.load(path: "/nonexistent/plans.json")
            Issue.record("loaded a missing file")
        } catch {
            #expect(error == .unreadable(path: "/nonexistent/plans.json", reason: "no such file"))
        }
    }

    @Test func codeRuleMatchesTheDatabaseConstraint() {
        for good in ["a", "0", "premium_monthly", String(repeating: "a", count: 64)] {
            #expect(issues(#"[{"code": "\#(good)", "name": "N", "period_days": 1}]"#).isEmpty, "\(good)")
        }
        for bad in ["", "_a", "A", "a-b", "é", String(repeating: "a", count: 65)] {
            #expect(issues(#"[{"code": "\#(bad)", "name": "N", "period_days": 1}]"#).count == 1, "\(bad)")
        }
    }
}

@Suite struct PlanSyncTests {
    private func catalog(_ json: String) throws -> PlanCatalog { try PlanCatalog.parse(data: Data(json.utf8)) }

    private func rows(_ pool: PGPool) async throws -> [String: Plan] {
        try await pool.withConnection { connection in
            Dictionary(uniqueKeysWithValues: try await PlanStore.allPlans(connection).map { ($0.code, $0) })
        }
    }

    @Test func syncUpsertsDeactivatesMissingPlansAndNeverDeletes() async throws {
        try await TestDatabase.with { _, pool in
            let first = try await PlanCatalog.sync(
                try PlanCatalog.load(path: TestEnvironment.repoRoot + "/plans.example.json"), pool: pool)
            #expect(first.inserted.sorted() == ["boost_week", "premium_monthly", "premium_yearly"])
            #expect(first.deactivated.isEmpty)

            let again = try await PlanCatalog.sync(
                try PlanCatalog.load(path: TestEnvironment.repoRoot + "/plans.example.json"), pool: pool)
            #expect(again.unchanged.count == 3)
            #expect(again.inserted.isEmpty && again.updated.isEmpty)

            // premium_yearly leaves the file, premium_monthly changes, a new plan arrives.
            let second = try await PlanCatalog.sync(
                try catalog(
                    """
                    [{"code": "premium_monthly", "name": "Premium (monthly)", "period_days": 31,
                      "stripe_price_id": "price_premium_monthly_v2", "stars_price": 300, "recurring": true},
                     {"code": "boost_week", "name": "Boost, one week", "period_days": 7, "stars_price": 50},
                     {"code": "lifetime", "name": "Lifetime", "period_days": 36500, "stars_price": 99999}]
                    """), pool: pool)
            #expect(second.inserted == ["lifetime"])
            #expect(second.updated == ["premium_monthly"])
            #expect(second.unchanged == ["boost_week"])
            #expect(second.deactivated == ["premium_yearly"])

            let plans = try await rows(pool)
            #expect(plans.count == 4)
            #expect(plans["premium_yearly"]?.active == false)
            #expect(
                plans["premium_monthly"]
                    == Plan(
                        code: "premium_monthly", name: "Premium (monthly)", periodDays: 31,
                        stripePriceID: "price_premium_monthly_v2", starsPrice: 300, recurring: true, active: true))
            let active = try await pool.withConnection { try await PlanStore.activePlans($0).map(\.code) }
            #expect(active == ["boost_week", "premium_monthly", "lifetime"])

            // Back in the file: reactivated.
            let third = try await PlanCatalog.sync(
                try PlanCatalog.load(path: TestEnvironment.repoRoot + "/plans.example.json"), pool: pool)
            #expect(third.updated.contains("premium_yearly"))
            #expect(third.deactivated == ["lifetime"])
            #expect(try await rows(pool)["premium_yearly"]?.active == true)
        }
    }

    @Test func aStripePriceCanMoveToAnotherPlan() async throws {
        try await TestDatabase.with { _, pool in
            try await PlanCatalog.sync(
                try catalog(#"[{"code": "old", "name": "Old", "period_days": 30, "stripe_price_id": "price_x"}]"#),
                pool: pool)
            try await PlanCatalog.sync(
                try catalog(#"[{"code": "new", "name": "New", "period_days": 30, "stripe_price_id": "price_x"}]"#),
                pool: pool)
            let found = try await pool.withConnection { try await PlanStore.plan($0, stripePriceID: "price_x") }
            #expect(found?.code == "new")
            let old = try await pool.withConnection { try await PlanStore.plan($0, code: "old") }
            #expect(old?.active == false)
            #expect(old?.stripePriceID == nil)
        }
    }

    @Test func lookupsFindInactivePlansByPriceForRenewals() async throws {
        try await TestDatabase.with { _, pool in
            try await PlanCatalog.sync(
                try catalog(#"[{"code": "retired", "name": "R", "period_days": 30, "stripe_price_id": "price_r"}]"#),
                pool: pool)
            try await PlanCatalog.sync(try catalog(#"[{"code": "other", "name": "O", "period_days": 7}]"#), pool: pool)
            let byPrice = try await pool.withConnection { try await PlanStore.plan($0, stripePriceID: "price_r") }
            #expect(byPrice?.code == "retired")
            #expect(byPrice?.active == false)
            let missing = try await pool.withConnection { try await PlanStore.plan($0, code: "nope") }
            #expect(missing == nil)
        }
    }

    @Test func concurrentSyncsOfTheSameFileLeaveOneRowPerPlan() async throws {
        try await TestDatabase.with { _, pool in
            let example = try PlanCatalog.load(path: TestEnvironment.repoRoot + "/plans.example.json")
            let reports = try await withThrowingTaskGroup(of: PlanCatalog.SyncReport.self) { group in
                for _ in 0..<8 { group.addTask { try await PlanCatalog.sync(example, pool: pool) } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(reports.flatMap(\.inserted).count == 3)
            let count = try await pool.withConnection { connection in
                try await connection.query("SELECT count(*) AS n FROM plans").first?.decode("n", as: Int.self)
            }
            #expect(count == 3)
        }
    }
}
