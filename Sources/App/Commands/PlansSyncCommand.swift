import ArgumentParser
import Billing
import Foundation
import PGClient

/// `telebot plans sync [--file F]`: validates the catalog, then upserts it in one transaction.
struct PlansSyncCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sync", abstract: "Upsert the plan catalog file into the plans table; plans missing from it become inactive.")

    @Option(name: .long, help: "Plan catalog JSON (default: $PLANS_FILE).") var file: String?

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        guard let path = file ?? environment["PLANS_FILE"].flatMap({ $0.isEmpty ? nil : $0 }) else {
            throw CommandFailure("PLANS_FILE is not set and no --file was given: name the plan catalog JSON", exitCode: 2)
        }
        let catalog: PlanCatalog
        do {
            catalog = try PlanCatalog.load(path: path)
        } catch {
            throw CommandFailure("plans sync: \(error.description)", exitCode: 2)
        }
        guard let url = environment["DATABASE_URL"], !url.isEmpty else {
            throw CommandFailure("DATABASE_URL is not set: it must name the database to write the plans to", exitCode: 2)
        }
        let pool = PGPool(
            configuration: PGPoolConfiguration(conninfo: url, size: 1),
            logger: CommandLogging.logger(label: "telebot.plans"))
        do {
            let report = try await PlanCatalog.sync(catalog, pool: pool)
            await pool.close()
            print("plans sync: \(catalog.plans.count) plans in \(path): \(report.description)")
        } catch {
            await pool.close()
            throw CommandFailure.wrap(error)
        }
    }
}
