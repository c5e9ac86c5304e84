import Foundation
import PGClient
import TestSupport
import Testing

/// Rows decode by column name; a mismatch says which column and why, an unknown column is a usage error.
@Suite struct DecodingErrorTests {
    private static func decodeError<T: PGDecodable & SendableMetatype>(
        _ pool: PGPool, _ sql: PGQuery, column: String, as type: T.Type
    ) async -> PGError? {
        await #expect(throws: PGError.self) {
            try await pool.withConnection { connection in
                _ = try await connection.query(sql).first?.decode(column, as: T.self)
            }
        }
    }

    @Test func columnsDecodeByNameInAnyOrder() async throws {
        try await PGTest.withPool { _, pool in
            let (a, b, c, viaPosition, names) = try await pool.withConnection { connection in
                let result = try await connection.query(
                    "SELECT 1::int8 AS a, 'two' AS b, true AS \"Mixed Case\", 4 AS \"userId\", 5 AS userid")
                let row = try #require(result.first)
                return (
                    try row.decode("a", as: Int64.self), try row.decode("b", as: String.self),
                    (
                        try row.decode("Mixed Case", as: Bool.self), try row.decode("userId", as: Int.self),
                        try row.decode("userid", as: Int.self), try row.decode("A", as: Int.self)
                    ),
                    try row.decode(at: 1, as: String.self), result.columns
                )
            }
            // Names match as the result spells them, case included; libpq's folding applies only as a fallback.
            #expect(c.0)
            #expect(c.1 == 4)
            #expect(c.2 == 5)
            #expect(c.3 == 1)
            #expect(b == "two")
            #expect(a == 1)
            #expect(viaPosition == "two")
            #expect(names == ["a", "b", "Mixed Case", "userId", "userid"])
        }
    }

    @Test func aTextColumnDecodedAsIntNamesTheColumnAndTheTypes() async throws {
        try await PGTest.withPool { _, pool in
            let error = await Self.decodeError(pool, "SELECT 'abc'::text AS nickname", column: "nickname", as: Int.self)
            #expect(error?.kind == .decoding)
            #expect(error?.column == "nickname")
            #expect(error?.message.contains("nickname") == true)
            #expect(error?.message.contains("Int") == true)
            #expect(error?.message.contains("text") == true)
            #expect(error?.description.contains("nickname") == true)
        }
    }

    @Test func aTypeMismatchNamesBothTypes() async throws {
        try await PGTest.withPool { _, pool in
            let boolAsInt = await Self.decodeError(pool, "SELECT true AS active", column: "active", as: Int64.self)
            #expect(boolAsInt?.kind == .decoding)
            #expect(boolAsInt?.message.contains("active") == true)
            #expect(boolAsInt?.message.contains("bool") == true)
            #expect(boolAsInt?.message.contains("Int64") == true)

            let textAsDate = await Self.decodeError(pool, "SELECT 'x'::text AS paid_at", column: "paid_at", as: Date.self)
            #expect(textAsDate?.kind == .decoding)
            #expect(textAsDate?.column == "paid_at")
            #expect(textAsDate?.message.contains("Date") == true)

            let intAsUUID = await Self.decodeError(pool, "SELECT 5 AS user_id", column: "user_id", as: UUID.self)
            #expect(intAsUUID?.message.contains("user_id") == true)
            #expect(intAsUUID?.message.contains("UUID") == true)

            let byteaAsString = await Self.decodeError(pool, "SELECT '\\x00'::bytea AS blob", column: "blob", as: String.self)
            #expect(byteaAsString?.kind == .decoding)
            #expect(byteaAsString?.message.contains("bytea") == true)

            let textAsBool = await Self.decodeError(pool, "SELECT 't'::text AS flag", column: "flag", as: Bool.self)
            #expect(textAsBool?.kind == .decoding)
        }
    }

    @Test func nullIntoANonOptionalIsADecodingErrorNamingTheColumn() async throws {
        try await PGTest.withPool { _, pool in
            let error = await Self.decodeError(pool, "SELECT NULL::int8 AS expires", column: "expires", as: Int64.self)
            #expect(error?.kind == .decoding)
            #expect(error?.column == "expires")
            #expect(error?.message.contains("NULL") == true)
        }
    }

    @Test func anUnknownColumnIsAUsageErrorNamingIt() async throws {
        try await PGTest.withPool { _, pool in
            let error = await Self.decodeError(pool, "SELECT 1 AS present", column: "absent_column", as: Int.self)
            #expect(error?.kind == .usage)
            #expect(error?.column == "absent_column")
            #expect(error?.message.contains("absent_column") == true)

            let position = await #expect(throws: PGError.self) {
                try await pool.withConnection { connection in
                    _ = try await connection.query("SELECT 1 AS present").first?.decode(at: 3, as: Int.self)
                }
            }
            #expect(position?.kind == .usage)
        }
    }
}
