import ArgumentParser
import AsyncHTTPClient
import Billing
import Foundation
import Logging
import Marketing
import Metrics
import PGClient

/// `telebot serve`: config → logs → metrics → schema check → plan sync → HTTP server and background services
/// until SIGTERM/SIGINT.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve", abstract: "Run the HTTP server and background services.",
        discussion: AppConfig.environmentHelp)

    /// Every statement the server runs is short (one webhook is one short transaction); anything running longer
    /// is stuck on a lock or a bad plan, and failing it frees the pool thread. Migrations (`telebot migrate`)
    /// run without this limit.
    static let statementTimeout: Duration = .seconds(30)

    func run() async throws {
        // Configuration errors end here with exit code 2, before anything is bootstrapped or listens.
        let config = try AppConfig.load(from: ProcessInfo.processInfo.environment)
        try ListenCheck.verify(host: config.host, port: config.port)
        LogBootstrap.bootstrap(format: config.logFormat, level: Logger.Level(rawValue: config.logLevel) ?? .info)
        // A closed stdout (or any pipe) must fail a write with EPIPE, never kill the server.
        _ = signal(SIGPIPE, SIG_IGN)
        var logger = Logger(label: "telebot")
        logger.logLevel = Logger.Level(rawValue: config.logLevel) ?? .info
        let metrics = AppMetrics()
        MetricsSystem.bootstrap(metrics.factory)
        logger.info("starting", metadata: ["config": .dictionary(config.redactedDescription.mapValues { .string($0) })])

        let pool = PGPool(
            configuration: PGPoolConfiguration(
                conninfo: config.databaseURL, size: config.dbPoolSize,
                usePreparedStatements: config.dbPreparedStatements, statementTimeout: ServeCommand.statementTimeout),
            logger: Logger(label: "telebot.pg"))
        let planCodes: [String]
        do {
            try await ServeCommand.prepareDatabase(config: config, pool: pool, logger: logger)
            planCodes = try await pool.withConnection { try await PlanStore.activePlans($0).map(\.code) }
        } catch {
            await pool.close()
            throw ServeCommand.failure(error)
        }
        ContractMetrics.register(factory: metrics.factory, planCodes: planCodes)

        let httpClient = HTTPClient(
            eventLoopGroupProvider: .singleton,
            configuration: .init(timeout: .init(connect: .seconds(5), read: .seconds(30))),
            backgroundActivityLogger: Logger(label: "telebot.http-client"))
        var dependencies = AppDependencies(pool: pool, httpClient: httpClient, logger: logger, metrics: metrics)
        dependencies.clients = AppClients(config: config, dependencies: dependencies)
        dependencies.miniApp = try await MiniAppServices(config: config, dependencies: dependencies)
        let clickWriter = BatchedClickWriter(pool: pool, logger: Logger(label: "telebot.marketing.clicks"))
        dependencies.clickWriter = clickWriter
        dependencies.services.append(clickWriter)
        for module in AppModules.all {
            dependencies.services += module.services(config: config, dependencies: dependencies)
        }
        let app = buildApplication(config: config, dependencies: dependencies)
        let group = AppLifecycle.serviceGroup(
            app: app, dependencies: dependencies, shutdownGrace: config.shutdownGrace, logger: logger)
        do {
            try await group.run()
        } catch {
            logger.error("stopped with an error", metadata: ["error": "\(error)"])
            try? await httpClient.shutdown()
            LineWriter.standardOutput.flush()
            throw CommandFailure("serve: \(error)")
        }
        try? await httpClient.shutdown()
        logger.info("stopped")
        LineWriter.standardOutput.flush()
    }

    /// The start-up checks that touch the database: schema not behind `sql/`, then `PLANS_FILE` synced.
    static func prepareDatabase(config: AppConfig, pool: PGPool, logger: Logger) async throws {
        try await SchemaCheck.verify(directory: config.migrationsDir, pool: pool, logger: logger)
        if let path = config.plansFile {
            let catalog = try PlanCatalog.load(path: path)
            let report = try await PlanCatalog.sync(catalog, pool: pool)
            logger.info(
                "plan catalog synced",
                metadata: [
                    "file": .string(path), "inserted": .stringConvertible(report.inserted.count),
                    "updated": .stringConvertible(report.updated.count),
                    "unchanged": .stringConvertible(report.unchanged.count),
                    "deactivated": .array(report.deactivated.map { .string($0) }),
                ])
        }
    }

    /// One clear line and the right exit code for a start-up failure.
    static func failure(_ error: any Error) -> CommandFailure {
        switch error {
        case let behind as SchemaCheck.Behind:
            CommandFailure("serve: \(behind.description)", exitCode: 1)
        case let catalog as PlanCatalogError:
            CommandFailure("configuration: PLANS_FILE: \(catalog.description)", exitCode: 2)
        case let migration as MigrationError:
            CommandFailure("configuration: MIGRATIONS_DIR: \(migration.description)", exitCode: 2)
        case let database as PGError:
            CommandFailure("serve: database (DATABASE_URL): \(database.description)", exitCode: 1)
        default:
            CommandFailure("serve: \(error)", exitCode: 1)
        }
    }
}
