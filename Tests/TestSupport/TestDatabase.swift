import Foundation
import Logging
import PGClient

/// A database of its own for one test, cloned from the migrated template, dropped afterwards.
public struct TestDatabase: Sendable {
    public let name: String
    public let conninfo: String

    /// Creates a database from the template (or an empty one when `template` is nil), runs `body` with a pool on
    /// it (120 s checkout timeout: under the full parallel run on two cores a task holding a connection can wait tens of
    /// seconds for a thread, and the wait is not what a test judges; `configure` may change anything), then closes the pool and
    /// drops the database, even when `body` throws.
    public static func with<T: Sendable>(
        poolSize: Int = 8,
        template: String? = TestEnvironment.template,
        configure: (inout PGPoolConfiguration) -> Void = { _ in },
        _ body: (TestDatabase, PGPool) async throws -> T
    ) async throws -> T {
        let database = try await create(template: template)
        var configuration = PGPoolConfiguration(conninfo: database.conninfo, size: poolSize, checkoutTimeout: .seconds(120))
        configure(&configuration)
        let pool = PGPool(configuration: configuration)
        do {
            let value = try await body(database, pool)
            await pool.close()
            await database.drop()
            return value
        } catch {
            await pool.close()
            await database.drop()
            throw error
        }
    }

    /// Creates a fresh database cloned from `TestEnvironment.template` (or an empty one when `template` is nil).
    public static func create(template: String? = TestEnvironment.template) async throws -> TestDatabase {
        let name = "t_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(20)
        let sql =
            template.map { "CREATE DATABASE \(name) TEMPLATE \(PGConnection.quoteIdentifier($0))" }
            ?? "CREATE DATABASE \(name)"
        try await admin { connection in
            // Concurrent clones of one template can collide on its lock (55006): retry briefly.
            var attempt = 0
            while true {
                do {
                    try await connection.unsafeExecute(sql)
                    return
                } catch let error as PGError where error.sqlState == .objectInUse && attempt < 50 {
                    attempt += 1
                    try await Task.sleep(for: .milliseconds(100))
                }
            }
        }
        return TestDatabase(name: String(name), conninfo: TestEnvironment.conninfo(database: String(name)))
    }

    /// Drops the database, disconnecting anyone still on it.
    public func drop() async {
        let name = self.name
        try? await TestDatabase.admin { connection in
            try await connection.unsafeExecute("DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
        }
    }

    /// Runs `body` on a short-lived connection to the `postgres` database.
    static func admin(_ body: @Sendable (PGConnection) async throws -> Void) async throws {
        let pool = PGPool(configuration: PGPoolConfiguration(conninfo: TestEnvironment.conninfo(database: "postgres"), size: 1))
        do {
            try await pool.withConnection(body)
            await pool.close()
        } catch {
            await pool.close()
            throw error
        }
    }
}
