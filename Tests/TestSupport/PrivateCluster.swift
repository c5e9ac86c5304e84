import Foundation

/// A PostgreSQL cluster of its own, for tests that stop or restart the server (they must not disturb the shared
/// test cluster). Uses the binaries `scripts/test` found and runs them as `TestEnvironment.runAs` under root.
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

    /// initdb + start. Takes a second or two.
    public static func start() throws -> PrivateCluster {
        let directory = NSTemporaryDirectory() + "telebot-pc-" + UUID().uuidString.prefix(8)
        try FileManager.default.createDirectory(atPath: directory + "/sock", withIntermediateDirectories: true)
        let cluster = PrivateCluster(directory: directory, port: freePort())
        if !TestEnvironment.runAs.isEmpty {
            try shell(["chown", "-R", TestEnvironment.runAs, directory])
        }
        try cluster.pg(["initdb", "-D", cluster.dataDirectory, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8"])
        try cluster.startServer()
        return cluster
    }

    public func startServer() throws {
        try pg([
            "pg_ctl", "-D", dataDirectory, "-w", "-l", directory + "/log",
            "-o", "-k \(socketDirectory) -p \(port) -c listen_addresses='' -c fsync=off", "start",
        ])
    }

    public func stopServer() throws {
        try pg(["pg_ctl", "-D", dataDirectory, "-w", "-m", "fast", "stop"])
    }

    public func restartServer() throws {
        try pg([
            "pg_ctl", "-D", dataDirectory, "-w", "-m", "fast", "-l", directory + "/log",
            "-o", "-k \(socketDirectory) -p \(port) -c listen_addresses='' -c fsync=off", "restart",
        ])
    }

    /// Stops the server and removes the directory.
    public func destroy() {
        try? stopServer()
        try? FileManager.default.removeItem(atPath: directory)
    }

    private func pg(_ arguments: [String]) throws {
        var command = arguments
        command[0] = TestEnvironment.pgBin + "/" + command[0]
        if !TestEnvironment.runAs.isEmpty { command = ["runuser", "-u", TestEnvironment.runAs, "--"] + command }
        try PrivateCluster.shell(command)
    }

    static func shell(_ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        let errors = Pipe()
        process.standardError = errors
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            throw ClusterError(command: arguments.joined(separator: " "), message: message)
        }
    }

    struct ClusterError: Error, CustomStringConvertible {
        let command: String
        let message: String
        var description: String { "\(command) failed: \(message)" }
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
