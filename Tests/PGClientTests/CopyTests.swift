import Foundation
import PGClient
import TestSupport
import Testing

/// `copyFrom` bulk-loads rows with COPY, escaping tabs, newlines and backslashes and sending NULLs.
@Suite struct CopyTests {
    private static let schema = """
        CREATE TABLE imported (
            id bigint PRIMARY KEY, name text NOT NULL, note text, amount int NOT NULL, blob bytea, seen timestamptz
        )
        """

    private static func name(_ id: Int) -> String {
        switch id % 5 {
        case 0: "tab\there \(id)"
        case 1: "line\nbreak\r\n\(id)"
        case 2: "back\\slash \\N \\t \(id)"
        case 3: "unicode 😀 中文 \(id)"
        default: "plain \(id)"
        }
    }

    @Test func oneHundredThousandRowsArriveIntact() async throws {
        try await PGTest.withPool(size: 2) { _, pool in
            try await PGTest.setUp(pool, Self.schema)
            let base = Date(timeIntervalSince1970: 1_700_000_000.25)
            let copied = try await pool.withConnection { connection in
                let rows = (0..<100_000).lazy.map { id -> [PGBind] in
                    [
                        id.pgBind(), Self.name(id).pgBind(),
                        (id % 10 == 0 ? nil : "note \(id)" as String?).pgBind(), Int32(id % 1000 - 500).pgBind(),
                        (id % 7 == 0 ? Data([0, UInt8(id % 256), 0]) : nil as Data?).pgBind(),
                        base.addingTimeInterval(Double(id)).pgBind(),
                    ]
                }
                return try connection.copyFrom(
                    table: "imported", columns: ["id", "name", "note", "amount", "blob", "seen"], rows: rows)
            }
            #expect(copied == 100_000)
            let count = try await PGTest.count(pool, "SELECT count(*) FROM imported")
            let nullNotes = try await PGTest.count(pool, "SELECT count(*) FROM imported WHERE note IS NULL")
            let blobs = try await PGTest.count(pool, "SELECT count(*) FROM imported WHERE blob IS NOT NULL")
            #expect(count == 100_000)
            #expect(nullNotes == 10_000)
            #expect(blobs == 14_286)
            for id in [0, 1, 2, 3, 4, 70, 99_999] {
                let row = try await pool.withConnection { connection in
                    let row = try #require(
                        try connection.query("SELECT name, note, amount, blob, seen FROM imported WHERE id = \(id)").first)
                    return (try row.decode("name", as: String.self), try row.decode("note", as: String?.self),
                            try row.decode("amount", as: Int.self), try row.decode("blob", as: Data?.self),
                            try row.decode("seen", as: Date.self))
                }
                #expect(row.0 == Self.name(id))
                #expect(row.1 == (id % 10 == 0 ? nil : "note \(id)"))
                #expect(row.2 == id % 1000 - 500)
                #expect(row.3 == (id % 7 == 0 ? Data([0, UInt8(id % 256), 0]) : nil))
                #expect(row.4 == base.addingTimeInterval(Double(id)))
            }
        }
    }

    @Test func aRowWithTheWrongNumberOfValuesAbortsTheWholeCopy() async throws {
        try await PGTest.withPool(size: 1) { _, pool in
            try await PGTest.setUp(pool, "CREATE TABLE pairs (a int, b text)")
            let error = await #expect(throws: PGError.self) {
                try await pool.withConnection { connection in
                    let rows: [[PGBind]] = [[1.pgBind(), "x".pgBind()], [2.pgBind()]]
                    return try connection.copyFrom(table: "pairs", columns: ["a", "b"], rows: rows)
                }
            }
            #expect(error?.kind == .usage)
            let count = try await PGTest.count(pool, "SELECT count(*) FROM pairs")
            #expect(count == 0)
        }
    }

    @Test func aServerErrorDuringCopyIsReportedAndTheConnectionStaysUsable() async throws {
        try await PGTest.withPool(size: 1) { _, pool in
            try await PGTest.setUp(pool, "CREATE TABLE pairs (a int PRIMARY KEY, b text NOT NULL)")
            let error = await #expect(throws: PGError.self) {
                try await pool.withConnection { connection in
                    let rows = (0..<1000).lazy.map { index -> [PGBind] in
                        [index.pgBind(), (index == 500 ? nil : "v" as String?).pgBind()]
                    }
                    return try connection.copyFrom(table: "pairs", columns: ["a", "b"], rows: rows)
                }
            }
            #expect(error?.sqlState == .notNullViolation)
            #expect(error?.column == "b")
            let (count, one) = try await pool.withConnection { connection in
                (try connection.query("SELECT count(*) AS n FROM pairs").first?.decode("n", as: Int.self),
                 try connection.query("SELECT 1 AS one").first?.decode("one", as: Int.self))
            }
            #expect(count == 0)
            #expect(one == 1)
        }
    }

    @Test func copyInsideATransactionRollsBackWithIt() async throws {
        try await PGTest.withPool(size: 1) { _, pool in
            try await PGTest.setUp(pool, "CREATE TABLE pairs (a int, b text)")
            await #expect(throws: Boom.self) {
                try await pool.transaction { tx in
                    let rows: [[PGBind]] = (0..<10).map { [$0.pgBind(), "x".pgBind()] }
                    try tx.copyFrom(table: "pairs", columns: ["a", "b"], rows: rows)
                    throw Boom()
                }
            }
            let count = try await PGTest.count(pool, "SELECT count(*) FROM pairs")
            #expect(count == 0)
        }
    }
}
