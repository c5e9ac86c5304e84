import ArgumentParser

/// `telebot-bench`: benchmarks that scripts under `scripts/bench-*` drive. Each benchmark is a subcommand in its
/// own file; add yours to `subcommands`.
@main
struct TelebotBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "telebot-bench",
        abstract: "Benchmarks for telebot (run them through scripts/bench-*).",
        subcommands: [
            PGBenchCommand.self, ClicksBenchCommand.self, WebhookBenchCommand.self, WebhookDirectBenchCommand.self,
            WebhookDecodeBenchCommand.self, AuthBenchCommand.self, HousekeepingBenchCommand.self,
        ]
    )
}
