import Foundation
import Logging

/// Applies and reverts the versioned SQL files of a directory, recording them in `schema_migrations`.
///
/// Every run holds a session advisory lock, so two migrators (two deploys, two CI jobs) never interleave; each
/// migration runs in its own transaction together with its `schema_migrations` row.
public struct Migrator: Sendable {
    /// `pg_advisory_lock` key shared by every telebot migrator ("telebot!" in ASCII).
    public static let advisoryLockKey: Int64 = 0x7465_6c65_626f_7421

    public let migrations: [Migration]
    let pool: PGPool
    let logger: Logger

    public init(directory: String, pool: PGPool, logger: Logger = Logger(label: "telebot.migrate")) throws {
        self.migrations = try Migration.load(directory: directory)
        self.pool = pool
        self.logger = logger
    }

    public init(migrations: [Migration], pool: PGPool, logger: Logger = Logger(label: "telebot.migrate")) {
        self.migrations = migrations.sorted { $0.version < $1.version }
        self.pool = pool
        self.logger = logger
    }

    /// Every known migration (files and applied rows), in version order, with its state.
    public func status() async throws -> [MigrationState] {
        let migrations = self.migrations
        return try await pool.withConnection { connection in
            let applied = try await Migrator.appliedRows(connection)
            return Migrator.states(migrations: migrations, applied: applied)
        }
    }

    /// The migrations not yet applied.
    public func pending() async throws -> [Migration] {
        let states = try await status()
        let pendingVersions = Set(states.filter(\.isPending).map(\.version))
        return migrations.filter { pendingVersions.contains($0.version) }
    }

    /// Applies every pending migration in order. Fails before applying anything when an applied migration's
    /// checksum changed on disk.
    @discardableResult
    public func up() async throws -> [Migration] {
        let migrations = self.migrations
        let logger = self.logger
        return try await pool.withConnection { connection in
            try await Migrator.locked(connection) {
                let applied = try await Migrator.appliedRows(connection)
                let drifted = Migrator.states(migrations: migrations, applied: applied)
                    .filter { $0.checksum == .drift }.map { String(format: "%04d_%@", $0.version, $0.name) }
                guard drifted.isEmpty else { throw MigrationError.drift(drifted) }
                var done: [Migration] = []
                for migration in migrations where applied[migration.version] == nil {
                    let started = ContinuousClock.now
                    do {
                        try await connection.inTransaction { tx in
                            try await tx.unsafeExecute(migration.upSQL)
                            let elapsed = ContinuousClock.now - started
                            let milliseconds =
                                Int(elapsed.components.seconds * 1000)
                                + Int(elapsed.components.attoseconds / 1_000_000_000_000_000)
                            try await tx.execute(
                                """
                                INSERT INTO schema_migrations (version, name, checksum, execution_ms)
                                VALUES (\(migration.version), \(migration.name), \(migration.checksum), \(milliseconds))
                                """)
                        }
                    } catch let error as PGError {
                        throw MigrationError.failed(migration: migration.label, reason: error.description)
                    }
                    logger.info("migration applied", metadata: ["migration": "\(migration.label)"])
                    done.append(migration)
                }
                return done
            }
        }
    }

    /// Reverts the last `count` applied migrations, newest first.
    @discardableResult
    public func down(count: Int = 1) async throws -> [Migration] {
        let migrations = self.migrations
        let logger = self.logger
        return try await pool.withConnection { connection in
            try await Migrator.locked(connection) {
                let applied = try await Migrator.appliedRows(connection)
                let byVersion = Dictionary(uniqueKeysWithValues: migrations.map { ($0.version, $0) })
                let targets = applied.keys.sorted(by: >).prefix(max(0, count))
                let missing = targets.filter { byVersion[$0] == nil }.map { "\(applied[$0]?.name ?? "?") (\($0))" }
                guard missing.isEmpty else { throw MigrationError.appliedButMissing(missing) }
                var done: [Migration] = []
                for version in targets {
                    guard let migration = byVersion[version], let downSQL = migration.downSQL else { continue }
                    do {
                        try await connection.inTransaction { tx in
                            try await tx.unsafeExecute(downSQL)
                            try await tx.execute("DELETE FROM schema_migrations WHERE version = \(version)")
                        }
                    } catch let error as PGError {
                        throw MigrationError.failed(migration: migration.label, reason: error.description)
                    }
                    logger.info("migration reverted", metadata: ["migration": "\(migration.label)"])
                    done.append(migration)
                }
                return done
            }
        }
    }

    struct AppliedRow {
        let name: String
        let checksum: String
        let appliedAt: Date
    }

    static func locked<T>(_ connection: PGConnection, _ body: () async throws -> T) async throws -> T {
        try await connection.advisoryLock(advisoryLockKey)
        do {
            try await connection.unsafeExecute(
                """
                CREATE TABLE IF NOT EXISTS schema_migrations (
                    version      bigint PRIMARY KEY,
                    name         text NOT NULL,
                    checksum     text NOT NULL,
                    applied_at   timestamptz NOT NULL DEFAULT now(),
                    execution_ms bigint NOT NULL DEFAULT 0
                )
                """)
            let value = try await body()  // lint-transactions: allow (the migrator's own statements)
            _ = try? await connection.advisoryUnlock(advisoryLockKey)
            return value
        } catch {
            _ = try? await connection.advisoryUnlock(advisoryLockKey)
            throw error
        }
    }

    static func appliedRows(_ connection: PGConnection) async throws -> [Int: AppliedRow] {
        let exists = try await connection.query("SELECT to_regclass('schema_migrations') IS NOT NULL AS present")
        guard try exists.first?.decode("present", as: Bool.self) == true else { return [:] }
        var rows: [Int: AppliedRow] = [:]
        for row in try await connection.query("SELECT version, name, checksum, applied_at FROM schema_migrations") {
            rows[try row.decode("version", as: Int.self)] = AppliedRow(
                name: try row.decode("name"), checksum: try row.decode("checksum"),
                appliedAt: try row.decode("applied_at"))
        }
        return rows
    }

    static func states(migrations: [Migration], applied: [Int: AppliedRow]) -> [MigrationState] {
        var states: [MigrationState] = migrations.map { migration in
            guard let row = applied[migration.version] else {
                return MigrationState(version: migration.version, name: migration.name, appliedAt: nil, checksum: .pending)
            }
            return MigrationState(
                version: migration.version, name: migration.name, appliedAt: row.appliedAt,
                checksum: row.checksum == migration.checksum ? .ok : .drift)
        }
        let known = Set(migrations.map(\.version))
        for (version, row) in applied where !known.contains(version) {
            states.append(MigrationState(version: version, name: row.name, appliedAt: row.appliedAt, checksum: .missingFile))
        }
        return states.sorted { $0.version < $1.version }
    }
}
