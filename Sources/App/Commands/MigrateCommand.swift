import ArgumentParser
import Foundation
import Logging
import PGClient

/// `telebot migrate up|down [N]|status|sql`.
struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Apply, revert and inspect the versioned SQL migrations in sql/.",
        subcommands: [Up.self, Down.self, Status.self, SQL.self]
    )

    struct Options: ParsableArguments {
        @Option(name: .long, help: "Migrations directory (default: $MIGRATIONS_DIR, else ./sql).")
        var dir: String?

        var directory: String {
            dir ?? ProcessInfo.processInfo.environment["MIGRATIONS_DIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "./sql"
        }

        /// Builds a migrator over a one-connection pool and runs `body`, closing the pool afterwards.
        func withMigrator<T: Sendable>(_ body: (Migrator) async throws -> T) async throws -> T {
            guard let url = ProcessInfo.processInfo.environment["DATABASE_URL"], !url.isEmpty else {
                throw CommandFailure("DATABASE_URL is not set: it must name the database to migrate", exitCode: 2)
            }
            let logger = CommandLogging.logger(label: "telebot.migrate")
            let pool = PGPool(configuration: PGPoolConfiguration(conninfo: url, size: 1), logger: logger)
            do {
                let migrator = try Migrator(directory: directory, pool: pool, logger: logger)
                let value = try await body(migrator)
                await pool.close()
                return value
            } catch {
                await pool.close()
                throw CommandFailure.wrap(error)
            }
        }
    }

    struct Up: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Apply every pending migration, each in its own transaction.")
        @OptionGroup var options: Options
        @Option(
            name: .customLong("wait-seconds"),
            help: "How long to wait for the database to accept connections before giving up (0: do not wait).")
        var waitSeconds: Int = 60

        func validate() throws {
            guard (0...3600).contains(waitSeconds) else { throw ValidationError("--wait-seconds must be 0...3600") }
        }

        func run() async throws {
            if let url = ProcessInfo.processInfo.environment["DATABASE_URL"], !url.isEmpty {
                try await DatabaseWait.untilReachable(conninfo: url, waitSeconds: waitSeconds, command: "migrate up")
            }
            let applied = try await options.withMigrator { try await $0.up() }
            if applied.isEmpty {
                print("migrate up: nothing to apply")
            } else {
                for migration in applied { print("applied \(migration.label)") }
            }
        }
    }

    struct Down: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revert the last N applied migrations (default 1).")
        @OptionGroup var options: Options
        @Argument(help: "How many migrations to revert.") var count: Int = 1

        func validate() throws {
            guard count >= 1 else { throw ValidationError("N must be at least 1") }
        }

        func run() async throws {
            let reverted = try await options.withMigrator { try await $0.down(count: count) }
            if reverted.isEmpty {
                print("migrate down: nothing to revert")
            } else {
                for migration in reverted { print("reverted \(migration.label)") }
            }
        }
    }

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "One line per migration: applied at or pending, checksum state.")
        @OptionGroup var options: Options

        func run() async throws {
            let states = try await options.withMigrator { try await $0.status() }
            for state in states { print(state.description) }
        }
    }

    struct SQL: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "sql", abstract: "Print the SQL of pending migrations for review; changes nothing.")
        @OptionGroup var options: Options

        func run() async throws {
            let pending = try await options.withMigrator { try await $0.pending() }
            if pending.isEmpty {
                print("-- no pending migrations")
                return
            }
            for migration in pending {
                print("-- \(migration.label).up.sql (checksum \(migration.checksum))")
                print(migration.upSQL)
            }
        }
    }
}
