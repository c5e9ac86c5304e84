import Foundation
import Logging
import PGClient

/// `serve` refuses to run against a schema that is behind `sql/`: DBAs migrate, the app never does on its own.
enum SchemaCheck {
    /// The database lacks migrations that exist in `sql/`.
    struct Behind: Error, CustomStringConvertible {
        let pending: [String]
        var description: String {
            "the database schema is behind sql/: pending migrations \(pending.joined(separator: ", ")); "
                + "apply them with `telebot migrate up` (or review them with `telebot migrate sql`)"
        }
    }

    /// Throws `Behind` listing the pending migrations (`0003_name`) when there are any. Migrations applied but
    /// absent from `sql/` (a newer release migrated first) and checksum drift are logged, not fatal.
    /// - Parameters:
    ///   - directory: the migrations directory (`MIGRATIONS_DIR`).
    ///   - pool: the database pool.
    ///   - logger: receives warnings about drift and unknown applied versions.
    static func verify(directory: String, pool: PGPool, logger: Logger) async throws {
        let migrator = try Migrator(directory: directory, pool: pool, logger: logger)
        let states = try await migrator.status()
        let pending = states.filter(\.isPending).map { String(format: "%04d_%@", $0.version, $0.name) }
        for state in states where !state.isPending && state.checksum != .ok {
            logger.warning("migration state", metadata: ["migration": "\(state.description)"])
        }
        guard pending.isEmpty else { throw Behind(pending: pending) }
    }
}
