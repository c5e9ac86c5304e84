import ArgumentParser
import Foundation

@main
struct TelebotCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "telebot",
        abstract: "The money side of a Telegram bot: Stripe and Telegram Stars subscriptions, Mini App, marketing.",
        discussion: AppConfig.environmentHelp,
        subcommands: [
            ServeCommand.self, MigrateCommand.self, PlansCommand.self, ProbeCommand.self, ReconcileCommand.self,
            TelegramCommand.self,
        ]
    )

    /// Parses and runs a subcommand; `CommandFailure`s become one line on stderr and their exit code.
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch let failure as CommandFailure {
            CommandFailure.exit(failure)
        } catch let error as AppConfig.Invalid {
            CommandFailure.exit(CommandFailure("configuration: \(error.description)", exitCode: 2))
        } catch {
            let wrapped = CommandFailure.wrap(error)
            if let failure = wrapped as? CommandFailure { CommandFailure.exit(failure) }
            exit(withError: error)
        }
    }
}
