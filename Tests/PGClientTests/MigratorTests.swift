import Foundation
import PGClient
import TestSupport
import Testing

/// The migrator on empty databases: round trips, concurrent runs, drift, failures, and the repository's sql/.
@Suite struct MigratorTests {
    /// A temporary directory of migration files: name → SQL.
    private struct MigrationFiles {
        let directory: String

        init(_ files: [String: String]) throws {
            directory = NSTemporaryDirectory() + "telebot-migrations-" + UUID().uuidString.prefix(8)
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            for (name, sql) in files { try write(name, sql) }
        }

        func write(_ name: String, _ sql: String) throws {
            try Data(sql.utf8).write(to: URL(fileURLWithPath: directory + "/" + name))
        }

        func remove() { try? FileManager.default.removeItem(atPath: directory) }
    }

    private static let twoMigrations = [
        "0001_accounts.up.sql": "CREATE TABLE accounts (id bigserial PRIMARY KEY, name text NOT NULL);",
        "0001_accounts.down.sql": "DROP TABLE accounts;",
        "0002_audit.up.sql": """
        CREATE TABLE audit (id bigserial PRIMARY KEY, note text NOT NULL);
        CREATE FUNCTION audit_note() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN INSERT INTO audit (note) VALUES ('account ' || NEW.name); RETURN NEW; END $$;
        CREATE TRIGGER accounts_audit AFTER INSERT ON accounts FOR EACH ROW EXECUTE FUNCTION audit_note();
        INSERT INTO accounts (name) VALUES ('seeded by 0002');
        """,
        "0002_audit.down.sql": """
        DROP TRIGGER accounts_audit ON accounts;
        DROP FUNCTION audit_note();
        DROP TABLE audit;
        DELETE FROM accounts WHERE name = 'seeded by 0002';
        """,
    ]

    /// An empty database (not cloned from the migrated template) with a pool, and a migrations directory.
    private static func withEmptyDatabase(
        files: [String: String], poolSize: Int = 2, _ body: (MigrationFiles, PGPool) async throws -> Void
    ) async throws {
        let migrations = try MigrationFiles(files)
        try await PGTest.withPool(size: poolSize, template: nil) { _, pool in
            do {
                try await body(migrations, pool)
            } catch {
                migrations.remove()
                throw error
            }
            migrations.remove()
        }
    }

    /// Objects in `public` other than `schema_migrations` (and its index): tables, sequences, functions, types.
    private static func leftovers(_ pool: PGPool) async throws -> [String] {
        try await pool.withConnection { connection in
            try await connection.query(
                """
                SELECT c.relname::text AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                 WHERE n.nspname = 'public' AND c.relname NOT IN ('schema_migrations', 'schema_migrations_pkey')
                UNION ALL
                SELECT p.proname::text FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
                 WHERE n.nspname = 'public'
                UNION ALL
                SELECT t.typname::text FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
                 WHERE n.nspname = 'public' AND t.typtype IN ('e', 'd', 'c')
                   AND NOT EXISTS (SELECT 1 FROM pg_class c WHERE c.oid = t.typrelid)
                ORDER BY 1
                """
            ).map { try $0.decode("name", as: String.self) }
        }
    }

    private static func appliedVersions(_ pool: PGPool) async throws -> [Int] {
        try await pool.withConnection { connection in
            try await connection.query("SELECT version FROM schema_migrations ORDER BY version").map {
                try $0.decode("version", as: Int.self)
            }
        }
    }

    @Test func upThenDownLeavesNoTrace() async throws {
        try await Self.withEmptyDatabase(files: Self.twoMigrations) { files, pool in
            let migrator = try Migrator(directory: files.directory, pool: pool)
            #expect(migrator.migrations.map(\.label) == ["0001_accounts", "0002_audit"])
            let pendingBefore = try await migrator.pending()
            #expect(pendingBefore.map(\.version) == [1, 2])

            let applied = try await migrator.up()
            #expect(applied.map(\.version) == [1, 2])
            #expect(try await Self.appliedVersions(pool) == [1, 2])
            let status = try await migrator.status()
            #expect(status.map(\.checksum) == [.ok, .ok])
            #expect(status.allSatisfy { !$0.isPending })
            let seeded = try await PGTest.count(pool, "SELECT count(*) FROM audit")
            #expect(seeded == 1)
            // Running up again does nothing.
            let again = try await migrator.up()
            #expect(again.isEmpty)

            let reverted = try await migrator.down(count: 1)
            #expect(reverted.map(\.version) == [2])
            #expect(try await Self.appliedVersions(pool) == [1])
            #expect(try await Self.leftovers(pool) == ["accounts", "accounts_id_seq", "accounts_pkey"])

            let rest = try await migrator.down(count: 5)
            #expect(rest.map(\.version) == [1])
            #expect(try await Self.appliedVersions(pool).isEmpty)
            #expect(try await Self.leftovers(pool).isEmpty)
            let statusAfter = try await migrator.status()
            #expect(statusAfter.allSatisfy { $0.isPending })
        }
    }

    @Test func concurrentUpRunsApplyEachMigrationOnce() async throws {
        try await Self.withEmptyDatabase(files: Self.twoMigrations, poolSize: 6) { files, pool in
            let appliedCounts = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<6 {
                    group.addTask {
                        // Each runner reads the directory itself, like separate deploys would.
                        let migrator = try Migrator(directory: files.directory, pool: pool)
                        return try await migrator.up().count
                    }
                }
                return try await group.reduce(into: [Int]()) { $0.append($1) }
            }
            #expect(appliedCounts.reduce(0, +) == 2)
            #expect(appliedCounts.filter { $0 > 0 }.count >= 1)
            let rows = try await PGTest.count(pool, "SELECT count(*) FROM schema_migrations")
            let seededAccounts = try await PGTest.count(pool, "SELECT count(*) FROM accounts WHERE name = 'seeded by 0002'")
            let auditRows = try await PGTest.count(pool, "SELECT count(*) FROM audit")
            #expect(rows == 2)
            #expect(seededAccounts == 1)
            #expect(auditRows == 1)
        }
    }

    @Test func anEditedAppliedMigrationIsReportedAsDriftAndBlocksUp() async throws {
        try await Self.withEmptyDatabase(files: Self.twoMigrations) { files, pool in
            try await Migrator(directory: files.directory, pool: pool).up()
            try files.write("0001_accounts.up.sql", "CREATE TABLE accounts (id bigserial PRIMARY KEY, name text);")
            try files.write("0003_more.up.sql", "CREATE TABLE more (id int);")
            try files.write("0003_more.down.sql", "DROP TABLE more;")
            let edited = try Migrator(directory: files.directory, pool: pool)
            let status = try await edited.status()
            #expect(status.map(\.checksum) == [.drift, .ok, .pending])
            #expect(status.first?.description.contains("drift") == true)
            await #expect(throws: MigrationError.drift(["0001_accounts"])) {
                try await edited.up()
            }
            // Nothing was applied past the drift.
            #expect(try await Self.appliedVersions(pool) == [1, 2])
            #expect(!(try await Self.leftovers(pool).contains("more")))
        }
    }

    @Test func aFailingMigrationRollsBackAndKeepsTheEarlierOnes() async throws {
        let files = [
            "0001_accounts.up.sql": "CREATE TABLE accounts (id bigserial PRIMARY KEY);",
            "0001_accounts.down.sql": "DROP TABLE accounts;",
            "0002_broken.up.sql": """
            CREATE TABLE partial (id int PRIMARY KEY);
            INSERT INTO partial VALUES (1);
            INSERT INTO no_such_table VALUES (1);
            """,
            "0002_broken.down.sql": "DROP TABLE partial;",
            "0003_later.up.sql": "CREATE TABLE later (id int);",
            "0003_later.down.sql": "DROP TABLE later;",
        ]
        try await Self.withEmptyDatabase(files: files) { files, pool in
            let migrator = try Migrator(directory: files.directory, pool: pool)
            let error = await #expect(throws: MigrationError.self) { try await migrator.up() }
            guard case .failed(let label, let reason) = error else {
                Issue.record("expected .failed, got \(String(describing: error))")
                return
            }
            #expect(label == "0002_broken")
            #expect(reason.contains("42P01"))
            #expect(try await Self.appliedVersions(pool) == [1])
            #expect(try await Self.leftovers(pool) == ["accounts", "accounts_id_seq", "accounts_pkey"])
            let status = try await migrator.status()
            #expect(status.map(\.isPending) == [false, true, true])
        }
    }

    @Test func badFileNamesAndMissingDownFilesAreRefused() throws {
        let badName = try MigrationFiles(["1_short.up.sql": "SELECT 1;", "1_short.down.sql": "SELECT 1;"])
        defer { badName.remove() }
        #expect(throws: MigrationError.badFileName("1_short.down.sql")) {
            _ = try Migration.load(directory: badName.directory)
        }
        let noDown = try MigrationFiles(["0001_only_up.up.sql": "SELECT 1;"])
        defer { noDown.remove() }
        #expect(throws: MigrationError.missingDown(version: 1, name: "only_up")) {
            _ = try Migration.load(directory: noDown.directory)
        }
        #expect(throws: MigrationError.directoryUnreadable("/nonexistent/telebot")) {
            _ = try Migration.load(directory: "/nonexistent/telebot")
        }
    }

    @Test func theRepositoriesSQLAppliesAndRevertsFully() async throws {
        try await Self.withEmptyDatabase(files: [:], poolSize: 2) { _, pool in
            let migrator = try Migrator(directory: TestEnvironment.migrationsDir, pool: pool)
            let all = migrator.migrations.map(\.version)
            #expect(!all.isEmpty)

            let first = try await migrator.up()
            #expect(first.map(\.version) == all)
            #expect(try await Self.appliedVersions(pool) == all)
            let tables = try await Self.leftovers(pool)
            for table in ["users", "plans", "user_entitlements", "payment_events", "invoices"] {
                #expect(tables.contains(table), "sql/ should create \(table)")
            }

            let reverted = try await migrator.down(count: all.count)
            #expect(reverted.map(\.version) == all.reversed())
            #expect(try await Self.appliedVersions(pool).isEmpty)
            #expect(try await Self.leftovers(pool) == [], "down migrations left objects behind")

            let second = try await migrator.up()
            #expect(second.map(\.version) == all)
            let status = try await migrator.status()
            #expect(status.allSatisfy { $0.checksum == .ok })
        }
    }
}
