import Billing
import Foundation
import Logging
import PGClient
import TestSupport
import Testing

@testable import App

@Suite struct SchemaCheckTests {
    @Test func pendingMigrationsBlockServeAndAreListed() async throws {
        let database = try await TestDatabase.create(template: nil)
        let pool = PGPool(configuration: PGPoolConfiguration(conninfo: database.conninfo, size: 1))
        do {
            try await SchemaCheck.verify(
                directory: TestEnvironment.migrationsDir, pool: pool, logger: AppTestSupport.quietLogger)
            Issue.record("an empty database passed the schema check")
        } catch let behind as SchemaCheck.Behind {
            let files = try FileManager.default.contentsOfDirectory(atPath: TestEnvironment.migrationsDir)
                .filter { $0.hasSuffix(".up.sql") }.map { String($0.dropLast(".up.sql".count)) }.sorted()
            #expect(behind.pending == files)
            #expect(behind.pending.first == "0001_users_and_plans")
            #expect(behind.description.contains("0001_users_and_plans"))
            #expect(behind.description.contains("telebot migrate up"))
        }
        let failure = ServeCommand.failure(SchemaCheck.Behind(pending: ["0001_users_and_plans"]))
        #expect(failure.exitCode == 1)
        await pool.close()
        await database.drop()
    }

    @Test func aMigratedDatabasePasses() async throws {
        try await TestDatabase.with { _, pool in
            try await SchemaCheck.verify(
                directory: TestEnvironment.migrationsDir, pool: pool, logger: AppTestSupport.quietLogger)
        }
    }

    @Test func startupFailuresMapToOneLineAndExitCodes() {
        #expect(ServeCommand.failure(PlanCatalogError.malformed("x")).exitCode == 2)
        #expect(ServeCommand.failure(PlanCatalogError.malformed("x")).message.hasPrefix("configuration: PLANS_FILE"))
        #expect(ServeCommand.failure(MigrationError.directoryUnreadable("/x")).exitCode == 2)
        #expect(ServeCommand.failure(PGError(kind: .connection, message: "refused")).exitCode == 1)
    }
}
