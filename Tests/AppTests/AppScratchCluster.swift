import Foundation
import TestSupport

/// A copy of PGClientTests' `ScratchCluster` (test targets cannot share it): like TestSupport's `PrivateCluster`, but its commands close
/// every inherited descriptor above stderr before running.
///
/// Why: Foundation's `Process` (swift-corelibs) learns that a child exited when a socket the child inherited is
/// closed. `pg_ctl start` leaves the server running with that socket still open, so `waitUntilExit()` never returns
/// and `PrivateCluster.start()` hangs. Closing the descriptors in a `bash` wrapper before `exec` avoids it.
final class AppScratchCluster: Sendable {
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
    static func start() throws -> AppScratchCluster {
        let directory = NSTemporaryDirectory() + "telebot-asc-" + UUID().uuidString.prefix(8)
        try FileManager.default.createDirectory(atPath: directory + "/sock", withIntermediateDirectories: true)
        let cluster = AppScratchCluster(directory: directory, port: PrivateCluster.freePort())
        do {
            if !TestEnvironment.runAs.isEmpty { try run(["chown", "-R", TestEnvironment.runAs, directory]) }
            try cluster.pg([
                "initdb", "-D", cluster.dataDirectory, "-U", "postgres", "--auth=trust", "-E", "UTF8",
                "--locale=C.UTF-8",
            ])
            try cluster.startServer()
        } catch {
            cluster.destroy()
            throw error
        }
        return cluster
    }

    private var serverOptions: String { "-k \(socketDirectory) -p \(port) -c listen_addresses='' -c fsync=off" }

    func startServer() throws {
        try pg(["pg_ctl", "-D", dataDirectory, "-w", "-t", "30", "-l", directory + "/log", "-o", serverOptions, "start"])
    }

    func stopServer() throws {
        try pg(["pg_ctl", "-D", dataDirectory, "-w", "-t", "30", "-m", "fast", "stop"])
    }

    func restartServer() throws {
        try pg([
            "pg_ctl", "-D", dataDirectory, "-w", "-t", "30", "-m", "fast", "-l", directory + "/log", "-o", serverOptions,
            "restart",
        ])
    }

    /// Stops the server (immediately) and removes the directory.
    func destroy() {
        try? pg(["pg_ctl", "-D", dataDirectory, "-w", "-m", "immediate", "stop"])
        try? FileManager.default.removeItem(atPath: directory)
    }

    private func pg(_ arguments: [String]) throws {
        var command = arguments
        command[0] = TestEnvironment.pgBin + "/" + command[0]
        if !TestEnvironment.runAs.isEmpty { command = ["runuser", "-u", TestEnvironment.runAs, "--"] + command }
        try Self.run(command)
    }

    private static let closeInheritedDescriptors =
        #"for fd in /proc/$$/fd/*; do fd=${fd##*/}; [ "$fd" -gt 2 ] && eval "exec $fd>&-"; done; exec "$@""#

    static func run(_ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = ["-c", closeInheritedDescriptors, "bash"] + arguments
        process.standardOutput = FileHandle.nullDevice
        let log = NSTemporaryDirectory() + "telebot-asc-cmd-" + UUID().uuidString.prefix(8)
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        defer { try? FileManager.default.removeItem(atPath: log) }
        process.standardError = FileHandle(forWritingAtPath: log)
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
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
