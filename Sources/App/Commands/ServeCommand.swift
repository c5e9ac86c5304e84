import ArgumentParser
import Foundation

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "serve", abstract: "Run the HTTP server and background services.")

    func run() async throws {
        _ = try AppConfig.load(from: ProcessInfo.processInfo.environment)
    }
}
