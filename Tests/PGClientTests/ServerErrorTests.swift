import Foundation
import PGClient
import TestSupport
import Testing

/// Server errors carry SQLSTATE and the named objects; `description` never carries row values.
@Suite struct ServerErrorTests {
    private static let schema = """
        CREATE TABLE accounts (
            id int PRIMARY KEY,
            email text NOT NULL CONSTRAINT accounts_email_key UNIQUE,
            balance int NOT NULL CONSTRAINT accounts_balance_nonnegative CHECK (balance >= 0)
        );
        CREATE TABLE transfers (
            id int PRIMARY KEY,
            account_id int NOT NULL CONSTRAINT transfers_account_fk REFERENCES accounts (id)
        );
        INSERT INTO accounts (id, email, balance) VALUES (1, 'secret.person@example.com', 10);
        """

    private static func failure(_ pool: PGPool, _ query: PGQuery) async -> PGError? {
        await #expect(throws: PGError.self) {
            try await pool.withConnection { connection in _ = try await connection.execute(query) }
        }
    }

    @Test func aUniqueViolationNamesTheConstraintAndTableButNotTheValue() async throws {
        try await PGTest.withPool { _, pool in
            try await PGTest.setUp(pool, Self.schema)
            let email = "secret.person@example.com"
            let error = try #require(
                await Self.failure(pool, "INSERT INTO accounts (id, email, balance) VALUES (2, \(email), 0)"))
            #expect(error.kind == .server)
            #expect(error.sqlState == .uniqueViolation)
            #expect(error.constraint == "accounts_email_key")
            #expect(error.table == "accounts")
            #expect(!error.isTransactionRetryable)
            #expect(!error.isConnectionLost)
            #expect(!error.safeToRetry)
            // The server's detail holds the duplicated value; only debugDescription shows it.
            #expect(error.detail?.contains(email) == true)
            #expect(!error.description.contains(email))
            #expect(!"\(error)".contains(email))
            #expect(error.description.contains("accounts_email_key"))
            #expect(error.description.contains("23505"))
            #expect(error.debugDescription.contains(email))
        }
    }

    @Test func aCheckViolationNamesTheCheckConstraint() async throws {
        try await PGTest.withPool { _, pool in
            try await PGTest.setUp(pool, Self.schema)
            let error = try #require(await Self.failure(pool, "UPDATE accounts SET balance = \(-500) WHERE id = 1"))
            #expect(error.sqlState == .checkViolation)
            #expect(error.constraint == "accounts_balance_nonnegative")
            #expect(error.table == "accounts")
            #expect(!error.description.contains("-500"))
            #expect(!error.description.contains("secret.person"))
        }
    }

    @Test func notNullAndForeignKeyViolationsNameColumnAndConstraint() async throws {
        try await PGTest.withPool { _, pool in
            try await PGTest.setUp(pool, Self.schema)
            let missingEmail: String? = nil
            let notNull = try #require(
                await Self.failure(pool, "INSERT INTO accounts (id, email, balance) VALUES (3, \(missingEmail), 1)"))
            #expect(notNull.sqlState == .notNullViolation)
            #expect(notNull.column == "email")
            #expect(notNull.table == "accounts")

            let foreignKey = try #require(await Self.failure(pool, "INSERT INTO transfers (id, account_id) VALUES (1, 999)"))
            #expect(foreignKey.sqlState == .foreignKeyViolation)
            #expect(foreignKey.constraint == "transfers_account_fk")
            #expect(foreignKey.detail?.contains("999") == true)
            #expect(!foreignKey.description.contains("999"))
        }
    }

    @Test func invalidInputIsSummarisedWithoutEchoingIt() async throws {
        try await PGTest.withPool { _, pool in
            let secret = "card-4242-4242-4242-4242"
            let error = try #require(await Self.failure(pool, "SELECT \(secret)::int"))
            #expect(error.sqlState == .invalidTextRepresentation)
            #expect(error.message.contains(secret))
            #expect(!error.description.contains(secret))
        }
    }

    @Test func syntaxAndMissingTableErrorsHaveTheirCodes() async throws {
        try await PGTest.withPool { _, pool in
            #expect(await Self.failure(pool, "SELEC 1")?.sqlState == .syntaxError)
            #expect(await Self.failure(pool, "SELECT * FROM no_such_table")?.sqlState == .undefinedTable)
            // The connection is still good after errors.
            let seven = try await PGTest.count(pool, "SELECT 7::int8")
            #expect(seven == 7)
        }
    }

    @Test func aServerErrorInsideATransactionRollsBackAndIsNotRetried() async throws {
        try await PGTest.withPool { _, pool in
            try await PGTest.setUp(pool, Self.schema)
            let attempts = Counter()
            let error = await #expect(throws: PGError.self) {
                try await pool.transaction { tx in
                    attempts.increment()
                    try await tx.execute("INSERT INTO accounts (id, email, balance) VALUES (5, 'new@example.com', 1)")
                    try await tx.execute("INSERT INTO accounts (id, email, balance) VALUES (6, 'new@example.com', 1)")
                }
            }
            #expect(error?.sqlState == .uniqueViolation)
            #expect(attempts.value == 1)
            #expect(try await PGTest.count(pool, "SELECT count(*) FROM accounts WHERE id IN (5, 6)") == 0)
        }
    }

    @Test func aStatementPastTheStatementTimeoutFailsAndFreesTheConnection() async throws {
        try await PGTest.withPool(size: 1, configure: { $0.statementTimeout = .milliseconds(200) }) { _, pool in
            // 57014 is the server's own cancel: the 5 s sleep did not run to its end.
            #expect(await Self.failure(pool, "SELECT pg_sleep(5)")?.sqlState == .queryCanceled)
            // The one connection serves the next query.
            #expect(try await PGTest.count(pool, "SELECT 8::int8") == 8)
            let setting = try await pool.withConnection {
                try await $0.query("SELECT current_setting('statement_timeout') AS s").first?.decode("s", as: String.self)
            }
            #expect(setting == "200ms")
        }
    }

    @Test func aNULInAParameterIsRefusedNotCut() async throws {
        try await PGTest.withPool { _, pool in
            let value = "A\u{0}B"
            let failure = await Self.failure(pool, "SELECT \(value)::text AS v")
            #expect(failure?.sqlState == .characterNotInRepertoire)
            let nine = try await PGTest.count(pool, "SELECT 9::int8")
            #expect(nine == 9)
        }
    }
}
