import ArgumentParser

/// `telebot plans sync [--file F]`.
struct PlansCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plans", abstract: "Manage the plan catalog.", subcommands: [PlansSyncCommand.self])
}
