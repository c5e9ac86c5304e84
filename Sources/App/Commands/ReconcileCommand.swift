import ArgumentParser
import AsyncHTTPClient
import Billing
import Foundation
import Logging
import PGClient

/// `telebot reconcile [--since DURATION] [--provider stripe|telegram_stars|all] [--dry-run]`: one reconciliation run
/// per provider, one JSON line each (`{"provider","seen","recovered","failed"}`); exit 1 when anything failed.
/// Needs the environment `serve` needs (`DATABASE_URL`, the bot token, `STRIPE_API_KEY` for Stripe).
struct ReconcileCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reconcile",
        abstract: "Apply payments whose webhooks never arrived (Stripe events, Telegram Stars transactions).",
        discussion: """
            Reads Stripe's event list and Telegram's getStarTransactions back to --since and applies what the \
            ledger lacks through the webhooks' code. Prints one JSON line per provider; exit 0 when nothing failed, \
            1 otherwise. --dry-run applies and writes nothing (no reconcile_runs row) and reports what it would \
            recover. Waits for a run of another instance of the same provider to finish.
            """)

    @Option(name: .long, help: "How far back to look: 90m, 72h, 3d or seconds (default: RECONCILE_LOOKBACK_HOURS).")
    var since: String?

    @Option(name: .long, help: "stripe, telegram_stars or all.")
    var provider: String = "all"

    @Flag(name: .long, help: "Apply nothing and write nothing; report what would be recovered.")
    var dryRun = false

    func run() async throws {
        let config = try AppConfig.load(from: ProcessInfo.processInfo.environment)
        let providers: [ReconcileProvider]
        switch provider {
        case "all": providers = ReconcileModule.configuredProviders(config)
        case "stripe":
            guard config.stripeAPIKey != nil else {
                throw CommandFailure("reconcile: --provider stripe needs STRIPE_API_KEY", exitCode: 2)
            }
            providers = [.stripe]
        case "telegram_stars": providers = [.telegramStars]
        default: throw CommandFailure("reconcile: --provider must be stripe, telegram_stars or all", exitCode: 2)
        }
        let lookbackSeconds: Int64
        if let since {
            guard let seconds = Self.seconds(since) else {
                throw CommandFailure("reconcile: --since must look like 90m, 72h, 3d or a number of seconds", exitCode: 2)
            }
            lookbackSeconds = seconds
        } else {
            lookbackSeconds = Int64(config.reconcileLookbackHours) * 3600
        }
        var logger = CommandLogging.logger(label: "telebot.reconcile")
        logger.logLevel = Logger.Level(rawValue: config.logLevel) ?? .info
        let pool = PGPool(
            configuration: PGPoolConfiguration(
                conninfo: config.databaseURL, size: 2, usePreparedStatements: config.dbPreparedStatements,
                statementTimeout: ServeCommand.statementTimeout),
            logger: logger)
        let httpClient = HTTPClient(
            eventLoopGroupProvider: .singleton,
            configuration: .init(timeout: .init(connect: .seconds(5), read: .seconds(30))))
        let dependencies = AppDependencies(pool: pool, httpClient: httpClient, logger: logger)
        let reconciler = Reconciler(config: config, dependencies: dependencies)
        let start = reconciler.now().addingTimeInterval(-Double(lookbackSeconds))
        var failed = false
        var failure: (any Error)?
        for provider in providers {
            do {
                let report = try await reconciler.run(provider, since: start, dryRun: dryRun, waitForLock: true)
                FileHandle.standardOutput.write(Data((report.jsonLine + "\n").utf8))
                failed = failed || report.failed > 0
            } catch {
                failure = error
                break
            }
        }
        await pool.close()
        try? await httpClient.shutdown()
        if let failure { throw CommandFailure("reconcile: \(CommandFailure.wrap(failure))") }
        if failed { throw ExitCode(1) }
    }

    /// `90m`, `72h`, `3d`, `45s` or plain seconds.
    static func seconds(_ text: String) -> Int64? {
        let units: [Character: Int64] = ["s": 1, "m": 60, "h": 3600, "d": 86_400]
        if let last = text.last, let unit = units[last], let value = Int64(text.dropLast()), value > 0 {
            return value * unit
        }
        if let value = Int64(text), value > 0 { return value }
        return nil
    }
}
