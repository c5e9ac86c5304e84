import ArgumentParser
import Foundation
import PGClient

/// A one-line reason for a failed command, printed to stderr, with the exit code operators script against
/// (2 for configuration errors, 1 otherwise).
struct CommandFailure: Error, CustomStringConvertible {
    let message: String
    let exitCode: Int32

    init(_ message: String, exitCode: Int32 = 1) {
        self.message = message
        self.exitCode = exitCode
    }

    var description: String { message }

    static func wrap(_ error: any Error) -> any Error {
        switch error {
        case let failure as CommandFailure: failure
        case let error as MigrationError: CommandFailure("migrate: \(error.description)")
        case let error as PGError: CommandFailure("database: \(error.description)")
        default: error
        }
    }
}

extension CommandFailure {
    /// Prints the reason and exits; used by commands so failures are one clear line, not a stack of text.
    static func exit(_ failure: CommandFailure) -> Never {
        FileHandle.standardError.write(Data("telebot: \(failure.message)\n".utf8))
        Foundation.exit(failure.exitCode)
    }
}
