import Foundation

/// What `scripts/test` exports for the tests: where the private PostgreSQL cluster listens and which template
/// database holds the migrated schema.
public enum TestEnvironment {
    static var env: [String: String] { ProcessInfo.processInfo.environment }

    public static var pgHost: String { env["TELEBOT_TEST_PGHOST"] ?? "/tmp/devpg" }
    public static var pgPort: String { env["TELEBOT_TEST_PGPORT"] ?? "55432" }
    public static var pgUser: String { env["TELEBOT_TEST_PGUSER"] ?? "postgres" }
    public static var template: String { env["TELEBOT_TEST_TEMPLATE"] ?? "telebot_template" }
    /// Directory with initdb/pg_ctl/postgres.
    public static var pgBin: String { env["TELEBOT_TEST_PGBIN"] ?? "/usr/lib/postgresql/15/bin" }
    /// User to run PostgreSQL binaries as when the tests run as root ("" otherwise).
    public static var runAs: String { env["TELEBOT_TEST_RUNAS"] ?? (getuid() == 0 ? "postgres" : "") }
    /// Repository root (for `sql/`, resources, vectors).
    public static var repoRoot: String {
        if let root = env["TELEBOT_TEST_ROOT"] { return root }
        // Tests/TestSupport/TestEnvironment.swift → repo root
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().path
    }
    public static var migrationsDir: String { repoRoot + "/sql" }
    /// Third-party test vectors kept in the repository (`Tests/Fixtures/vectors`, see its README).
    public static var vectorsDir: String { repoRoot + "/Tests/Fixtures/vectors" }
    /// Where tests may leave artefacts (screenshots, logs).
    public static var outputDir: String { env["TELEBOT_TEST_OUTPUT"] ?? repoRoot + "/test-output" }

    /// A libpq connection string for a database of the test cluster.
    public static func conninfo(database: String) -> String {
        "host=\(pgHost) port=\(pgPort) user=\(pgUser) dbname=\(database) connect_timeout=5"
    }
}
