import Foundation
import PGClient
import TestSupport
import Testing

/// Every Swift type PGClient binds goes to PostgreSQL and back unchanged, NULLs included.
@Suite struct TypeRoundTripTests {
    /// Binds `value` as `$1::sqlType`, reads it back as `T`, and also asks the server whether it received `expected`.
    static func roundTrip<T: PGCodable & Sendable>(
        _ pool: PGPool, _ value: T, as sqlType: String
    ) async throws -> T {
        try await pool.withConnection { connection in
            let row = try #require(try await connection.query("SELECT \(value)::\(unsafeRaw: sqlType) AS v").first)
            return try row.decode("v", as: T.self)
        }
    }

    @Test func integersRoundTripIncludingLimits() async throws {
        try await PGTest.withPool { _, pool in
            for value in [Int64.min, -1, 0, 1, Int64.max] {
                #expect(try await Self.roundTrip(pool, value, as: "int8") == value)
            }
            for value in [Int32.min, -7, 0, Int32.max] {
                #expect(try await Self.roundTrip(pool, value, as: "int4") == value)
            }
            for value in [Int.min, 0, 42, Int.max] {
                #expect(try await Self.roundTrip(pool, value, as: "int8") == value)
            }
            // Narrower columns decode into wider Swift integers.
            let widened = try await pool.withConnection { connection in
                let row = try #require(try await connection.query("SELECT 12::int2 AS s, 2147483647::int4 AS i").first)
                return (try row.decode("s", as: Int.self), try row.decode("i", as: Int64.self))
            }
            #expect(widened.0 == 12)
            #expect(widened.1 == 2_147_483_647)
        }
    }

    @Test func anInt8ThatDoesNotFitInt32IsADecodingErrorNotATruncation() async throws {
        try await PGTest.withPool { _, pool in
            let error = await #expect(throws: PGError.self) {
                try await pool.withConnection { connection in
                    try await connection.query("SELECT 3000000000::int8 AS big").first?.decode("big", as: Int32.self)
                }
            }
            #expect(error?.kind == .decoding)
            #expect(error?.column == "big")
            #expect(error?.message.contains("Int32") == true)
        }
    }

    @Test func boolsRoundTrip() async throws {
        try await PGTest.withPool { _, pool in
            let yes = try await Self.roundTrip(pool, true, as: "bool")
            let no = try await Self.roundTrip(pool, false, as: "bool")
            #expect(yes)
            #expect(!no)
        }
    }

    @Test func doublesRoundTripIncludingNaNAndInfinities() async throws {
        try await PGTest.withPool { _, pool in
            let values: [Double] = [
                0, -0.0, 0.1, -1.5, 3.141592653589793, 1e-300, 1.7976931348623157e308, .leastNonzeroMagnitude,
                .infinity, -.infinity,
            ]
            for value in values {
                #expect(try await Self.roundTrip(pool, value, as: "float8") == value)
            }
            #expect(try await Self.roundTrip(pool, Double.nan, as: "float8").isNaN)
            // The server really holds the special values, not strings that happen to decode.
            let checks = try await pool.withConnection { connection in
                let row = try #require(
                    try await connection.query(
                        """
                        SELECT \(Double.nan)::float8 = 'NaN'::float8 AS nan,
                               \(Double.infinity)::float8 = 'Infinity'::float8 AS inf,
                               \(-Double.infinity)::float8 = '-Infinity'::float8 AS neginf,
                               \(0.1)::float8 = 0.1::float8 AS tenth
                        """
                    ).first)
                return [
                    try row.decode("nan", as: Bool.self), try row.decode("inf", as: Bool.self),
                    try row.decode("neginf", as: Bool.self), try row.decode("tenth", as: Bool.self),
                ]
            }
            #expect(checks == [true, true, true, true])
            // numeric and real columns decode as Double too.
            let decoded = try await pool.withConnection { connection in
                let row = try #require(try await connection.query("SELECT 12.25::numeric AS n, 0.5::float4 AS r").first)
                return (try row.decode("n", as: Double.self), try row.decode("r", as: Double.self))
            }
            #expect(decoded.0 == 12.25)
            #expect(decoded.1 == 0.5)
        }
    }

    @Test func stringsRoundTripWithUnicodeQuotesAndBackslashes() async throws {
        let values = [
            "", "plain", "emoji 😀👍🏽🇺🇦 family 👨‍👩‍👧‍👦", "中文字符 日本語 한국어", "it's \"quoted\"",
            "back\\slash \\x00 \\N", "tab\tnew\nline\r\n", "$1 ::text; DROP TABLE users; --", "ümlaut ß ç",
            String(repeating: "long ", count: 20_000),
        ]
        try await PGTest.withPool { _, pool in
            try await PGTest.setUp(pool, "CREATE TABLE strings (id int PRIMARY KEY, v text, vc varchar(200000))")
            for (index, value) in values.enumerated() {
                #expect(try await Self.roundTrip(pool, value, as: "text") == value)
                let stored = try await pool.withConnection { connection in
                    try await connection.execute("INSERT INTO strings (id, v, vc) VALUES (\(index), \(value), \(value))")
                    let row = try #require(
                        try await connection.query("SELECT v, vc, length(v) AS chars FROM strings WHERE id = \(index)").first)
                    return (
                        try row.decode("v", as: String.self), try row.decode("vc", as: String.self),
                        try row.decode("chars", as: Int.self)
                    )
                }
                #expect(stored.0 == value)
                #expect(stored.1 == value)
                #expect(stored.2 == value.unicodeScalars.count)
            }
            // An empty string is not NULL.
            let isNull = try await pool.withConnection { connection in
                try await connection.query("SELECT v IS NULL AS n FROM strings WHERE id = 0").first?.decode("n", as: Bool.self)
            }
            #expect(isNull == false)
        }
    }

    @Test func datesRoundTripWithMicrosecondsBefore1970AndFarAhead() async throws {
        // (value, the same instant as PostgreSQL timestamptz text in UTC)
        let cases: [(Date, String)] = [
            (Date(timeIntervalSince1970: 1_700_000_000.123456), "2023-11-14 22:13:20.123456+00"),
            (Date(timeIntervalSince1970: 0), "1970-01-01 00:00:00+00"),
            (Date(timeIntervalSince1970: -0.000001), "1969-12-31 23:59:59.999999+00"),
            (Date(timeIntervalSince1970: -2_208_988_800), "1900-01-01 00:00:00+00"),
            (Date(timeIntervalSince1970: -2_208_988_799.5), "1900-01-01 00:00:00.5+00"),
            (Date(timeIntervalSince1970: 4_118_040_000.654321), "2100-06-30 12:00:00.654321+00"),
            // Far ahead a Double holds milliseconds, not microseconds: whole and half seconds there.
            (Date(timeIntervalSince1970: 253_402_300_799.5), "9999-12-31 23:59:59.5+00"),
            (Date(timeIntervalSince1970: 1_515_680_380_800), "50000-01-01 00:00:00+00"),
        ]
        try await PGTest.withPool { _, pool in
            for (date, text) in cases {
                let (back, sameOnServer, serverText) = try await pool.withConnection { connection in
                    let row = try #require(
                        try await connection.query(
                            """
                            SELECT \(date) AS v, \(date) = \(text)::timestamptz AS same,
                                   \(text)::timestamptz AS from_text
                            """
                        ).first)
                    return (
                        try row.decode("v", as: Date.self), try row.decode("same", as: Bool.self),
                        try row.decode("from_text", as: Date.self)
                    )
                }
                #expect(sameOnServer, "server received another instant for \(text)")
                #expect(micros(back) == micros(date), "round trip of \(text)")
                #expect(micros(serverText) == micros(date), "decoding of \(text)")
            }
            #expect(try await Self.roundTrip(pool, Date.distantFuture, as: "timestamptz") == .distantFuture)
            #expect(try await Self.roundTrip(pool, Date.distantPast, as: "timestamptz") == .distantPast)
            // timestamp without time zone reads as UTC; other session time zones do not change instants.
            let local = try await pool.withConnection { connection in
                try await connection.query("SELECT '2024-02-29 12:34:56.789'::timestamp AS t").first?.decode("t", as: Date.self)
            }
            #expect(local.map(micros) == micros(Date(timeIntervalSince1970: 1_709_210_096.789)))
        }
    }

    private func micros(_ date: Date) -> Int64 { Int64((date.timeIntervalSince1970 * 1_000_000).rounded()) }

    @Test func uuidsRoundTrip() async throws {
        try await PGTest.withPool { _, pool in
            let id = UUID()
            #expect(try await Self.roundTrip(pool, id, as: "uuid") == id)
            let fixed = try #require(UUID(uuidString: "A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11"))
            let text = try await pool.withConnection { connection in
                try await connection.query("SELECT \(fixed)::text AS t").first?.decode("t", as: String.self)
            }
            #expect(text == "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11")
        }
    }
}
