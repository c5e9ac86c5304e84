import Foundation
import TestSupport

/// A throwaway PostgreSQL server for the restart tests: like TestSupport's `PrivateCluster`, but its commands run
/// through `posix_spawn`/`waitpid` and close every inherited descriptor above stderr before running.
///
/// Why: Foundation's `Process` (swift-corelibs) learns that a child exited when a socket the child inherited is
/// closed. `pg_ctl start` leaves the server running with that socket still open, so `waitUntilExit()` never returns
/// and `PrivateCluster.start()` hangs. The server must not inherit the test process's sockets either.
final class ScratchCluster: Sendable {
    let directory: String
    let port: Int

    var socketDirectory: String { directory + "/sock" }
    var dataDirectory: String { directory + "/data" }

    func conninfo(database: String = "postgres") -> String {
        "host=\(socketDirectory) port=\(port) user=postgres dbname=\(database) connect_timeout=3"
    }

    private init(directory: String, port: Int) {
        self.directory = directory
        self.port = port
    }

    /// initdb + start (a second or two).
    static func start() async throws -> ScratchCluster {
        let directory = NSTemporaryDirectory() + "telebot-sc-" + UUID().uuidString.prefix(8)
        try FileManager.default.createDirectory(atPath: directory + "/sock", withIntermediateDirectories: true)
        let cluster = ScratchCluster(directory: directory, port: PrivateCluster.freePort())
        do {
            if !TestEnvironment.runAs.isEmpty { try await run(["chown", "-R", TestEnvironment.runAs, directory]) }
            try await cluster.pg([
                "initdb", "-D", cluster.dataDirectory, "-U", "postgres", "--auth=trust", "-E", "UTF8",
                "--locale=C.UTF-8",
            ])
            try await cluster.startServer()
        } catch {
            await cluster.destroy()
            throw error
        }
        return cluster
    }

    private var serverOptions: String { "-k \(socketDirectory) -p \(port) -c listen_addresses='' -c fsync=off" }

    func startServer() async throws {
        try await pg(["pg_ctl", "-D", dataDirectory, "-w", "-t", "30", "-l", directory + "/log", "-o", serverOptions, "start"])
    }

    func stopServer() async throws {
        try await pg(["pg_ctl", "-D", dataDirectory, "-w", "-t", "30", "-m", "fast", "stop"])
    }

    func restartServer() async throws {
        try await pg([
            "pg_ctl", "-D", dataDirectory, "-w", "-t", "30", "-m", "fast", "-l", directory + "/log", "-o", serverOptions,
            "restart",
        ])
    }

    /// Stops the server (immediately) and removes the directory.
    func destroy() async {
        try? await pg(["pg_ctl", "-D", dataDirectory, "-w", "-m", "immediate", "stop"])
        try? FileManager.default.removeItem(atPath: directory)
    }

    private func pg(_ arguments: [String]) async throws {
        var command = arguments
        command[0] = TestEnvironment.pgBin + "/" + command[0]
        if !TestEnvironment.runAs.isEmpty { command = ["runuser", "-u", TestEnvironment.runAs, "--"] + command }
        try await Self.run(command)
    }

    /// `bash -c SCRIPT bash COMMAND...`: every descriptor above 2 closed, then exec COMMAND.
    private static let closeInheritedDescriptors =
        #"for fd in /proc/$$/fd/*; do fd=${fd##*/}; [ "$fd" -gt 2 ] && eval "exec $fd>&-"; done; exec "$@""#

    /// Runs a command to completion with `posix_spawn` and `waitpid` (not Foundation's `Process`, whose
    /// descriptor handling races with SwiftNIO's selectors when other suites serve HTTP in the same process);
    /// stdin and stdout are /dev/null, stderr goes to a temporary file quoted in the error.
    static func run(_ arguments: [String]) async throws {
        // Waiting for initdb/pg_ctl takes seconds: never on the cooperative pool, which the other suites share.
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let thread = Thread { continuation.resume(with: Result { try runBlocking(arguments) }) }
            thread.start()
        }
    }

    private static func runBlocking(_ arguments: [String]) throws {
        let log = NSTemporaryDirectory() + "telebot-sc-cmd-" + UUID().uuidString.prefix(8)
        defer { try? FileManager.default.removeItem(atPath: log) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, log, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        let argv = ["/bin/bash", "-c", closeInheritedDescriptors, "bash"] + arguments
        var cArguments: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
        defer { for pointer in cArguments { free(pointer) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, "/bin/bash", &actions, nil, &cArguments, environ)
        guard spawned == 0 else {
            throw ClusterCommandFailed(command: arguments.joined(separator: " "), message: "posix_spawn: \(spawned)")
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 {
            guard errno == EINTR else { break }
        }
        // Exited normally with code 0: low 7 bits (signal) zero and exit code (bits 8-15) zero.
        guard status & 0x7f == 0, (status >> 8) & 0xff == 0 else {
            let message = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            throw ClusterCommandFailed(command: arguments.joined(separator: " "), message: message)
        }
    }

    struct ClusterCommandFailed: Error, CustomStringConvertible {
        let command: String
        let message: String
        var description: String { "\(command) failed: \(message)" }
    }
}
