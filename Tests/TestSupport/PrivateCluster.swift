import Foundation

/// A PostgreSQL cluster of its own, for tests that stop or restart the server (they must not disturb the shared
/// test cluster). Uses the binaries `scripts/test` found, runs them as `TestEnvironment.runAs` under root, and
/// starts them through `ChildProcess` (never Foundation's `Process`: see there why).
public final class PrivateCluster: Sendable {
    public let directory: String
    public let port: Int

    public var socketDirectory: String { directory + "/sock" }
    public var dataDirectory: String { directory + "/data" }

    public func conninfo(database: String = "postgres") -> String {
        "host=\(socketDirectory) port=\(port) user=postgres dbname=\(database) connect_timeout=3"
    }

    private init(directory: String, port: Int) {
        self.directory = directory
        self.port = port
    }

    /// initdb + start (a second or two).
    public static func start() async throws -> PrivateCluster {
        let directory = NSTemporaryDirectory() + "telebot-pc-" + UUID().uuidString.prefix(8)
        try FileManager.default.createDirectory(atPath: directory + "/sock", withIntermediateDirectories: true)
        let cluster = PrivateCluster(directory: directory, port: freePort())
        do {
            if !TestEnvironment.runAs.isEmpty { try await ChildProcess.run(["chown", "-R", TestEnvironment.runAs, directory]) }
            try await cluster.pg([
                "initdb", "-D", cluster.dataDirectory, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8",
            ])
            try await cluster.startServer()
        } catch {
            await cluster.destroy()
            throw error
        }
        return cluster
    }

    private var serverOptions: String { "-k \(socketDirectory) -p \(port) -c listen_addresses='' -c fsync=off" }

    public func startServer() async throws {
        try await pg(["pg_ctl", "-D", dataDirectory, "-w", "-t", "30", "-l", directory + "/log", "-o", serverOptions, "start"])
    }

    public func stopServer() async throws {
        try await pg(["pg_ctl", "-D", dataDirectory, "-w", "-t", "30", "-m", "fast", "stop"])
    }

    public func restartServer() async throws {
        try await pg([
            "pg_ctl", "-D", dataDirectory, "-w", "-t", "30", "-m", "fast", "-l", directory + "/log", "-o", serverOptions,
            "restart",
        ])
    }

    /// Stops the server (immediately) and removes the directory.
    public func destroy() async {
        try? await pg(["pg_ctl", "-D", dataDirectory, "-w", "-m", "immediate", "stop"])
        try? FileManager.default.removeItem(atPath: directory)
    }

    private func pg(_ arguments: [String]) async throws {
        var command = arguments
        command[0] = TestEnvironment.pgBin + "/" + command[0]
        if !TestEnvironment.runAs.isEmpty { command = ["runuser", "-u", TestEnvironment.runAs, "--"] + command }
        try await ChildProcess.run(command)
    }

    /// A TCP port nobody listens on right now.
    public static func freePort() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
