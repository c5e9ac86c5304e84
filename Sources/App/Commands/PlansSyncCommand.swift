import ArgumentParser
import Foundation

struct PlansSyncCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sync", abstract: "Upsert the plan catalog file into the plans table; plans missing from it become inactive.")

    @Option(name: .long, help: "Plan catalog JSON (default: $PLANS_FILE).") var file: String?

    func run() async throws {
        throw CommandFailure("plans sync is not available yet")
    }
}
