import Foundation
import Synchronization

/// A child process started with `posix_spawn`, for tests (PostgreSQL commands, `telebot serve`).
///
/// Not Foundation's `Process`: swift-corelibs' `Process` learns that a child exited when a socket the child
/// inherited is closed (so `pg_ctl start`, which leaves a server holding it, never "exits"), and its descriptor
/// handling has crashed SwiftNIO's selector (`SelectorGeneric.swift:320`, an fd registered twice) while other
/// suites serve HTTP in the same process. Here the child closes every inherited descriptor above stderr in a
/// `bash` wrapper before `exec`, and its output goes to files.
public final class ChildProcess: Sendable {
    /// The child's process id.
    public let pid: pid_t
    private let status = Mutex<Int32?>(nil)

    /// `bash -c SCRIPT bash COMMAND...`: every descriptor above 2 closed, then exec COMMAND.
    private static let closeInheritedDescriptors =
        #"for fd in /proc/$$/fd/*; do fd=${fd##*/}; [ "$fd" -gt 2 ] && eval "exec $fd>&-"; done; exec "$@""#

    /// Starts `arguments` (looked up in PATH) with stdin from /dev/null and stdout/stderr appended to files.
    /// - Parameter environment: the child's whole environment; nil inherits the test process's.
    public init(_ arguments: [String], environment: [String: String]? = nil, stdout: String, stderr: String) throws {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, stdout, O_WRONLY | O_CREAT | O_APPEND, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, stderr, O_WRONLY | O_CREAT | O_APPEND, 0o600)
        let argv = ["/bin/bash", "-c", Self.closeInheritedDescriptors, "bash"] + arguments
        var cArguments: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
        defer { for pointer in cArguments { free(pointer) } }
        let environmentStrings = environment.map { $0.map { "\($0.key)=\($0.value)" } }
        var cEnvironment: [UnsafeMutablePointer<CChar>?] = (environmentStrings ?? []).map { strdup($0) } + [nil]
        defer { for pointer in cEnvironment { free(pointer) } }
        var pid: pid_t = 0
        let spawned =
            environmentStrings == nil
            ? posix_spawn(&pid, "/bin/bash", &actions, nil, &cArguments, environ)
            : posix_spawn(&pid, "/bin/bash", &actions, nil, &cArguments, &cEnvironment)
        guard spawned == 0 else { throw ChildProcessError(command: arguments.joined(separator: " "), message: "posix_spawn: \(spawned)") }
        self.pid = pid
    }

    /// The exit code once the child has ended (128 + signal when killed), nil while it runs. Never blocks.
    public var exitCode: Int32? {
        status.withLock { saved in
            if let saved { return saved }
            var raw: Int32 = 0
            guard waitpid(pid, &raw, WNOHANG) == pid else { return nil }
            let code = raw & 0x7f == 0 ? (raw >> 8) & 0xff : 128 + (raw & 0x7f)
            saved = code
            return code
        }
    }

    /// True while the child runs.
    public var isRunning: Bool { exitCode == nil }

    /// Sends `signal` to the child (ignored once it has ended and been reaped).
    public func signal(_ signal: Int32) {
        if isRunning { kill(pid, signal) }
    }

    /// Polls until the child ends (no thread blocks); SIGKILLs it after `timeout` and returns nil.
    public func waitForExit(timeout: Duration = .seconds(30)) async -> Int32? {
        let deadline = ContinuousClock.now + timeout
        while true {
            if let code = exitCode { return code }
            if ContinuousClock.now > deadline {
                kill(pid, SIGKILL)
                return nil
            }
            try? await Task.sleep(for: .milliseconds(20))
        }
    }

    /// Runs a command to completion, polling (no thread blocks in `waitpid`); throws with the command's stderr
    /// when it exits non-zero or runs longer than two minutes.
    public static func run(_ arguments: [String]) async throws {
        let log = NSTemporaryDirectory() + "telebot-cmd-" + UUID().uuidString.prefix(8)
        defer { try? FileManager.default.removeItem(atPath: log) }
        let child = try ChildProcess(arguments, stdout: "/dev/null", stderr: log)
        let code = await child.waitForExit(timeout: .seconds(120))
        guard code == 0 else {
            let message = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            throw ChildProcessError(
                command: arguments.joined(separator: " "), message: "exit \(code.map(String.init) ?? "timeout"): \(message)")
        }
    }
}

/// A child process that could not start or failed.
public struct ChildProcessError: Error, CustomStringConvertible {
    public let command: String
    public let message: String
    public var description: String { "\(command) failed: \(message)" }
}
