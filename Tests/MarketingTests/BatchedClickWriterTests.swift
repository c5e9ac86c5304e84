import Marketing
import PGClient
import TestSupport
import Testing

@Suite struct BatchedClickWriterTests {
    @Test func fiveHundredConcurrentClicksGiveFiveHundredRowsAndDistinctIDs() async throws {
        try await TestDatabase.with { _, pool in
            let users = try await withThrowingTaskGroup(of: Int64.self) { group in
                for index in 0..<10 { group.addTask { try await MarketingFixtures.user(pool, telegramID: 1_000 + Int64(index)) } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            let writer = BatchedClickWriter(pool: pool, configuration: .init(maxBatchSize: 64, maxDelay: .milliseconds(3)))
            let metrics = TestMetrics()
            let service = ClickService(pool: pool, writer: writer, metrics: MarketingMetrics(factory: metrics))
            // Each caller tags its row, so we can check that the id it got back is the row it asked for.
            let results = try await withThrowingTaskGroup(of: (Int, Int64, Int64).self) { group in
                for caller in 0..<500 {
                    group.addTask {
                        let user = users[caller % users.count]
                        let id = try await service.create(
                            userID: user,
                            click: NewClick(ctaType: caller % 2 == 0 ? "buy" : "mystery", metadata: ["caller": .integer(Int64(caller))]))
                        return (caller, user, id)
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(results.count == 500)
            #expect(Set(results.map(\.2)).count == 500)
            #expect(try await MarketingFixtures.count(pool, "SELECT count(*) FROM marketing_clicks") == 500)
            let rows = try await pool.withConnection { connection in
                try await connection.query("SELECT id, user_id, (metadata->>'caller')::bigint AS caller FROM marketing_clicks").map {
                    (try $0.decode("id", as: Int64.self), (try $0.decode("user_id", as: Int64.self), try $0.decode("caller", as: Int.self)))
                }
            }
            let byID = Dictionary(uniqueKeysWithValues: rows)
            for (caller, user, id) in results {
                #expect(byID[id]?.0 == user)
                #expect(byID[id]?.1 == caller)
            }
            // Fewer statements than rows: the writer batched.
            let batches = try await MarketingFixtures.count(
                pool, "SELECT count(DISTINCT xmin::text) FROM marketing_clicks")
            #expect(batches < 500)
            #expect(metrics.value("marketing_clicks_total", [("cta_type", "buy")]) == 250)
            #expect(metrics.value("marketing_clicks_total", [("cta_type", "other")]) == 250)
            #expect(metrics.value("marketing_clicks_total", [("cta_type", "mystery")]) == 0)
            await writer.close()
            #expect(writer.backlog == (0, 0))
        }
    }

    @Test func aRowBreakingAConstraintFailsOnlyItsCaller() async throws {
        try await TestDatabase.with { _, pool in
            let user = try await MarketingFixtures.user(pool, telegramID: 1_100)
            // A long delay puts all rows in one batch; the unknown user breaks the foreign key.
            let writer = BatchedClickWriter(pool: pool, configuration: .init(maxBatchSize: 100, maxDelay: .milliseconds(200)))
            let outcomes = await withTaskGroup(of: (Int, Result<Int64, any Error>).self) { group in
                for caller in 0..<20 {
                    group.addTask {
                        let target = caller == 7 ? Int64(99_999_999) : user
                        do {
                            return (caller, .success(try await writer.insert(userID: target, click: NewClick(ctaType: "buy"))))
                        } catch {
                            return (caller, .failure(error))
                        }
                    }
                }
                return await group.reduce(into: [Int: Result<Int64, any Error>]()) { $0[$1.0] = $1.1 }
            }
            for (caller, outcome) in outcomes {
                switch outcome {
                case .success: #expect(caller != 7)
                case .failure(let error):
                    #expect(caller == 7)
                    #expect(error as? ClickError == .unknownUser)
                }
            }
            #expect(try await MarketingFixtures.count(pool, "SELECT count(*) FROM marketing_clicks") == 19)
            await writer.close()
        }
    }

    @Test func aDatabaseFailureFailsEveryCallerOfTheBatch() async throws {
        try await TestDatabase.with { _, pool in
            let user = try await MarketingFixtures.user(pool, telegramID: 1_200)
            let broken = PGPool(
                configuration: PGPoolConfiguration(conninfo: TestEnvironment.conninfo(database: "no_such_database_mk"), size: 2))
            let writer = BatchedClickWriter(pool: broken, configuration: .init(maxBatchSize: 100, maxDelay: .milliseconds(20)))
            let failures = await withTaskGroup(of: Bool.self) { group in
                for _ in 0..<25 {
                    group.addTask {
                        do {
                            _ = try await writer.insert(userID: user, click: NewClick(ctaType: "buy"))
                            return false
                        } catch {
                            return error is PGError
                        }
                    }
                }
                return await group.reduce(0) { $0 + ($1 ? 1 : 0) }
            }
            #expect(failures == 25)
            await writer.close()
            await broken.close()
        }
    }

    @Test func closedWriterRefusesNewRowsAfterWritingPendingOnes() async throws {
        try await TestDatabase.with { _, pool in
            let user = try await MarketingFixtures.user(pool, telegramID: 1_300)
            let writer = BatchedClickWriter(pool: pool, configuration: .init(maxBatchSize: 100, maxDelay: .seconds(30)))
            // Queued behind a 30 s timer: close() must write them now.
            let pending = Task {
                try await withThrowingTaskGroup(of: Int64.self) { group in
                    for _ in 0..<5 { group.addTask { try await writer.insert(userID: user, click: NewClick(ctaType: "buy")) } }
                    return try await group.reduce(into: []) { $0.append($1) }
                }
            }
            #expect(try await eventually(timeout: .seconds(60)) { writer.backlog.pending == 5 })
            let started = ContinuousClock.now
            await writer.close()
            #expect(ContinuousClock.now - started < .seconds(5))
            #expect(try await pending.value.count == 5)
            await #expect(throws: BatchedClickWriter.Closed.self) {
                try await writer.insert(userID: user, click: NewClick(ctaType: "buy"))
            }
            await #expect(throws: ClickError.self) {
                try await writer.insert(userID: user, click: NewClick(ctaType: "NOT valid"))
            }
            #expect(try await MarketingFixtures.count(pool, "SELECT count(*) FROM marketing_clicks") == 5)
        }
    }
}
