import AsyncHTTPClient
import Foundation
import NIOCore
import TestSupport

/// `telebot serve` (the built binary) as a child process, with its stdout and stderr in files.
final class ServeProcess: Sendable {
    static var binary: String { TestEnvironment.repoRoot + "/.build/debug/telebot" }

    let process: ChildProcess
    let stdoutPath: String
    let stderrPath: String
    let port: Int

    /// Starts `telebot <arguments>` with exactly `environment` (plus PATH). Inherited descriptors above stderr are
    /// closed first (see `ChildProcess`), so the child holds none of the test process's sockets.
    init(arguments: [String] = ["serve"], environment: [String: String], port: Int) throws {
        let directory = NSTemporaryDirectory() + "telebot-serve-" + UUID().uuidString.prefix(8)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        stdoutPath = directory + "/stdout"
        stderrPath = directory + "/stderr"
        _ = FileManager.default.createFile(atPath: stdoutPath, contents: nil)
        _ = FileManager.default.createFile(atPath: stderrPath, contents: nil)
        self.port = port
        var environment = environment
        environment["PATH"] = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        process = try ChildProcess(
            [ServeProcess.binary] + arguments, environment: environment, stdout: stdoutPath, stderr: stderrPath)
    }

    var pid: Int32 { process.pid }
    var stdout: String { (try? String(contentsOfFile: stdoutPath, encoding: .utf8)) ?? "" }
    var stderr: String { (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? "" }

    func signal(_ signal: Int32) { process.signal(signal) }

    /// Waits for the process to end (polling, so no thread blocks), killing it after `timeout`.
    func exitCode(timeout: Duration = .seconds(30)) async -> Int32? {
        await process.waitForExit(timeout: timeout)
    }

    /// Polls `GET path` until it answers `status` (or `timeout` passes); returns the time it took.
    func waitFor(path: String = "/health/ready", status: Int = 200, timeout: Duration = .seconds(30)) async throws -> Duration? {
        let started = ContinuousClock.now
        while ContinuousClock.now - started < timeout {
            guard process.isRunning else { return nil }
            var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)")
            request.method = .GET
            if let response = try? await HTTPClient.shared.execute(request, timeout: .seconds(2)),
                Int(response.status.code) == status
            {
                return ContinuousClock.now - started
            }
            try await Task.sleep(for: .milliseconds(10))
        }
        return nil
    }

    func cleanUp() {
        if process.isRunning { signal(SIGKILL) }
        try? FileManager.default.removeItem(atPath: (stdoutPath as NSString).deletingLastPathComponent)
    }
}
