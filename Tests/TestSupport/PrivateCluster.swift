import Foundation

/// A PostgreSQL cluster of its own, for tests that stop or restart the server (they must not disturb the shared
/// test cluster). Its lifecycle is the project's one cluster controller, `scripts/telebot_py/cluster` (the same
/// initdb, settings and start as `scripts/lib/pg.sh`, which wraps it too), run as
/// `PYTHONPATH=<repo>/scripts python3 -m telebot_py.cluster start|stop|restart|destroy DIR` with the binaries
/// `scripts/test` found (`TestEnvironment.pgBin`) and, under root, `TestEnvironment.runAs`; always through
/// `ChildProcess` (never Foundation's `Process`: see there why). The server listens on its unix socket only
/// (`DIR/sock`), on the port chosen here, with fsync off.
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
        let cluster = PrivateCluster(directory: directory, port: freePort())
        do {
            try await cluster.startServer()
        } catch {
            await cluster.destroy()
            throw error
        }
        return cluster
    }

    /// initdb when needed (the first time), then start on `port`.
    public func startServer() async throws {
        try await controller(["start", directory, "--port", String(port), "--sockdir", socketDirectory, "--socket-only"])
    }

    /// A fast shutdown (a no-op when the server is not running).
    public func stopServer() async throws {
        try await controller(["stop", directory, "--mode", "fast"])
    }

    /// A fast shutdown and a start, on the same port and socket.
    public func restartServer() async throws {
        try await controller(["restart", directory])
    }

    /// Stops the server (immediately) and removes the directory.
    public func destroy() async {
        try? await controller(["destroy", directory])
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Runs `python3 -m telebot_py.cluster ARGUMENTS --pgbin … --runas …`; throws with its stderr on failure.
    private func controller(_ arguments: [String]) async throws {
        let command = ["env", "PYTHONPATH=\(TestEnvironment.repoRoot)/scripts", "python3", "-m", "telebot_py.cluster"]
        let options = ["--pgbin", TestEnvironment.pgBin, "--runas", TestEnvironment.runAs]
        try await ChildProcess.run(command + arguments + options)
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
