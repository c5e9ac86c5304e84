import Foundation
import PGClient

/// Waits, bounded, for the database to accept connections: `telebot migrate up` in docker compose or a deploy
/// script may start while PostgreSQL is still starting. Prints one line when it has to wait, and gives up with a
/// clear failure after the deadline. Errors that waiting cannot fix (a wrong password, a missing database) fail at
/// once.
enum DatabaseWait {
    static func untilReachable(conninfo: String, waitSeconds: Int, command: String) async throws {
        let deadline = ContinuousClock.now + .seconds(max(0, waitSeconds))
        var announced = false
        while true {
            let failure: PGError
            do {
                let connection = try await PGConnection.connect(conninfo: conninfo)
                connection.close()
                if announced { FileHandle.standardError.write(Data("\(command): the database accepts connections\n".utf8)) }
                return
            } catch {
                failure = error
            }
            guard isWorthWaiting(failure), ContinuousClock.now < deadline else {
                let waited = announced ? " after waiting \(waitSeconds) s" : ""
                throw CommandFailure("\(command): cannot connect to the database (DATABASE_URL)\(waited): \(failure.message)")
            }
            if !announced {
                announced = true
                FileHandle.standardError.write(
                    Data(
                        "\(command): waiting up to \(waitSeconds) s for the database to accept connections (\(failure.message))\n"
                            .utf8))
            }
            try await Task.sleep(for: .seconds(1))
        }
    }

    /// A server that is not up yet (refused, no socket, starting up, name not resolvable yet), not one that
    /// answered and said no.
    static func isWorthWaiting(_ error: PGError) -> Bool {
        guard error.kind == .connection else { return false }
        let permanent = ["authentication failed", "does not exist", "no pg_hba.conf entry", "invalid", "SSL"]
        return !permanent.contains { error.message.localizedCaseInsensitiveContains($0) }
    }
}
