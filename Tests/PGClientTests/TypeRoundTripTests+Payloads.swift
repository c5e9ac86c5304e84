import Foundation
import PGClient
import TestSupport
import Testing

/// Round trips of bytes, JSON and NULLs (the scalar types are in `TypeRoundTripTests.swift`).
extension TypeRoundTripTests {
    @Test func byteaRoundTripsEveryByteIncludingZeros() async throws {
        try await PGTest.withPool { _, pool in
            let everyByte = Data((0...255).map { UInt8($0) })
            for value in [Data(), Data([0]), Data([0, 0, 0, 1, 0]), everyByte, Data(repeating: 0xab, count: 100_000)] {
                #expect(try await Self.roundTrip(pool, value, as: "bytea") == value)
            }
            let length = try await pool.withConnection { connection in
                try await connection.query("SELECT length(\(everyByte)) AS n").first?.decode("n", as: Int.self)
            }
            #expect(length == 256)
        }
    }

    struct Profile: Codable, Sendable, Equatable {
        var name: String
        var tags: [String]
        var score: Double
        var nested: Nested?

        struct Nested: Codable, Sendable, Equatable {
            var flag: Bool
            var count: Int
        }
    }

    @Test func codableStructsRoundTripAsJSONB() async throws {
        let profile = Profile(
            name: "Zoë \"Z\" 😀 中文 \\ /", tags: ["a", "b\nc"], score: 2.5, nested: .init(flag: true, count: 3))
        try await PGTest.withPool { _, pool in
            try await PGTest.setUp(pool, "CREATE TABLE docs (id int PRIMARY KEY, body jsonb, plain json)")
            let (back, name, count) = try await pool.withConnection { connection in
                try await connection.execute("INSERT INTO docs (id, body) VALUES (1, \(PGJSON(profile)))")
                let row = try #require(
                    try await connection.query(
                        "SELECT body, body->>'name' AS name, (body->'nested'->>'count')::int AS c FROM docs WHERE id = 1"
                    ).first)
                return (
                    try row.decode("body", as: PGJSON<Profile>.self).value, try row.decode("name", as: String.self),
                    try row.decode("c", as: Int.self)
                )
            }
            #expect(back == profile)
            #expect(name == profile.name)
            #expect(count == 3)
            // A jsonb that does not match the struct is a decoding error naming the column.
            let error = await #expect(throws: PGError.self) {
                try await pool.withConnection { connection in
                    try await connection.query("SELECT '{\"other\": 1}'::jsonb AS body").first?
                        .decode("body", as: PGJSON<Profile>.self)
                }
            }
            #expect(error?.kind == .decoding)
            #expect(error?.column == "body")
        }
    }

    @Test func rawJSONIsStoredAsJSONBAndReadBackAsText() async throws {
        try await PGTest.withPool { _, pool in
            let raw = PGRawJSON(#"{"b": [1, 2, {"c": null}], "a": "ü😀\"\\"}"#)
            let (back, a, type) = try await pool.withConnection { connection in
                let row = try #require(
                    try await connection.query("SELECT \(raw) AS j, \(raw)->>'a' AS a, pg_typeof(\(raw))::text AS t").first)
                return (
                    try row.decode("j", as: PGRawJSON.self), try row.decode("a", as: String.self),
                    try row.decode("t", as: String.self)
                )
            }
            #expect(type == "jsonb")
            #expect(a == "ü😀\"\\")
            // jsonb normalises key order and spacing; the content is the same.
            let original = try JSONSerialization.jsonObject(with: Data(raw.text.utf8)) as? NSDictionary
            let returned = try JSONSerialization.jsonObject(with: Data(back.text.utf8)) as? NSDictionary
            #expect(original != nil)
            #expect(original == returned)
            // json (not jsonb) columns decode as raw text unchanged.
            let plain = try await pool.withConnection { connection in
                try await connection.query("SELECT '{\"z\":1,  \"a\":2}'::json AS j").first?.decode("j", as: PGRawJSON.self)
            }
            #expect(plain?.text == "{\"z\":1,  \"a\":2}")
            // Invalid JSON is refused by the server as invalid data.
            let error = await #expect(throws: PGError.self) {
                try await pool.withConnection { connection in
                    try await connection.execute("SELECT \(PGRawJSON("{not json")) AS j")
                }
            }
            #expect(error?.sqlState == .invalidTextRepresentation)
        }
    }

    @Test func optionalsBindAndDecodeAsNull() async throws {
        try await PGTest.withPool { _, pool in
            try await PGTest.setUp(
                pool,
                """
                CREATE TABLE nullable (
                    id int PRIMARY KEY, i int8, i4 int4, b bool, d float8, s text, t timestamptz, u uuid, by bytea,
                    j jsonb
                )
                """)
            let values: (Int64?, Int32?, Bool?, Double?, String?, Date?, UUID?, Data?, PGJSON<Profile>?) = (
                nil, nil, nil, nil, nil, nil, nil, nil, nil
            )
            let (allNull, decoded) = try await pool.withConnection { connection in
                try await connection.execute(
                    """
                    INSERT INTO nullable (id, i, i4, b, d, s, t, u, by, j) VALUES (1, \(values.0), \(values.1),
                        \(values.2), \(values.3), \(values.4), \(values.5), \(values.6), \(values.7), \(values.8))
                    """)
                let row = try #require(
                    try await connection.query(
                        """
                        SELECT i, i4, b, d, s, t, u, by, j,
                               num_nulls(i, i4, b, d, s, t, u, by, j) = 9 AS all_null FROM nullable
                        """
                    ).first)
                let decoded = (
                    try row.decode("i", as: Int64?.self), try row.decode("i4", as: Int32?.self),
                    try row.decode("b", as: Bool?.self), try row.decode("d", as: Double?.self),
                    try row.decode("s", as: String?.self), try row.decode("t", as: Date?.self),
                    try row.decode("u", as: UUID?.self), try row.decode("by", as: Data?.self),
                    try row.decode("j", as: PGJSON<Profile>?.self), try row.isNull("s")
                )
                return (try row.decode("all_null", as: Bool.self), decoded)
            }
            #expect(allNull)
            #expect(decoded.0 == nil && decoded.1 == nil && decoded.2 == nil && decoded.3 == nil)
            #expect(decoded.4 == nil && decoded.5 == nil && decoded.6 == nil && decoded.7 == nil)
            #expect(decoded.8 == nil)
            #expect(decoded.9)
            // Optionals holding values bind like the values.
            let some: Int64? = 5
            let text: String? = "x"
            let present = try await pool.withConnection { connection in
                let row = try #require(try await connection.query("SELECT \(some) + 1 AS n, \(text) || 'y' AS s").first)
                return (try row.decode("n", as: Int64?.self), try row.decode("s", as: String?.self))
            }
            #expect(present.0 == 6)
            #expect(present.1 == "xy")
        }
    }
}
