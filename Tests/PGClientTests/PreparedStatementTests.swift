import Foundation
import PGClient
import TestSupport
import Testing

/// Queries work with the per-connection prepared statement cache on and off (PgBouncer mode).
@Suite struct PreparedStatementTests {
    private static func exercise(_ pool: PGPool) async throws {
        try await PGTest.setUp(pool, "CREATE TABLE kv (k text PRIMARY KEY, v int NOT NULL)")
        for round in 0..<3 {
            let stored = try await pool.transaction { tx in
                try await tx.execute("INSERT INTO kv (k, v) VALUES (\("key\(round)"), \(round)) ON CONFLICT (k) DO NOTHING")
                return try await tx.query("SELECT v FROM kv WHERE k = \("key\(round)")").first?.decode("v", as: Int.self)
            }
            #expect(stored == round)
        }
        // The same SQL text bound with different parameter types each time.
        let echoed = try await pool.withConnection { connection in
            let sql = "SELECT $1 AS v, pg_typeof($1)::text AS t"
            func run(_ bind: PGBind) async throws -> (String?, String?) {
                let row = try await connection.query(PGQuery(unsafeSQL: sql, binds: [bind])).first
                return (try row?.decode("v", as: String?.self), try row?.decode("t", as: String.self))
            }
            return await [
                try run(Int64(5).pgBind()), try run(PGBind(oid: PGType.text, text: "text")), try run(true.pgBind()),
                try run(Int64(6).pgBind()), try run(Int32(7).pgBind()), try run(PGBind(oid: PGType.int8, text: nil)),
            ]
        }
        #expect(echoed.map(\.0) == ["5", "text", "t", "6", "7", nil])
        #expect(echoed.map(\.1) == ["bigint", "text", "boolean", "bigint", "integer", "bigint"])
        // An error in a statement does not poison later uses of it.
        for key in ["key0", "key0", "fresh"] {
            let inserted = try? await pool.withConnection { connection in
                try await connection.execute("INSERT INTO kv (k, v) VALUES (\(key), 1)")
            }
            #expect(inserted == (key == "fresh" ? 1 : nil))
        }
    }

    private static func preparedStatementCount(_ pool: PGPool) async throws -> Int {
        try await pool.withConnection { connection in
            try await connection.execute("SELECT v FROM kv WHERE k = \("a")")
            try await connection.execute("SELECT v FROM kv WHERE k = \("b")")
            return try await connection.query("SELECT count(*) AS n FROM pg_prepared_statements WHERE statement LIKE '%FROM kv%'")
                .first?.decode("n", as: Int.self) ?? -1
        }
    }

    @Test func preparedStatementsOnWorkAndAreCachedPerConnection() async throws {
        try await PGTest.withPool(size: 1) { _, pool in
            try await Self.exercise(pool)
            // Each distinct statement text is prepared once on the connection, however often it runs.
            let prepared = try await Self.preparedStatementCount(pool)
            #expect(prepared >= 2)
            let again = try await Self.preparedStatementCount(pool)
            #expect(again == prepared)
        }
    }

    @Test func preparedStatementsOffWorkAndPrepareNothing() async throws {
        try await PGTest.withPool(size: 1, configure: { $0.usePreparedStatements = false }) { _, pool in
            try await Self.exercise(pool)
            let prepared = try await Self.preparedStatementCount(pool)
            #expect(prepared == 0)
        }
    }
}
