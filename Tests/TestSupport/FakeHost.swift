import Foundation
import Support

/// The test process's one fake host: `python3 -m telebot_py.fakes.host`, the project's one fake Bot API and one
/// fake Stripe (`scripts/telebot_py/fakes`, the same code the drill, the fuzz, the browser tests and the demo use),
/// started at the first `FakeBotAPI.start()` / `FakeStripe.start()` and ended with the test process (it watches our
/// pid). Each fake it makes listens on its own 127.0.0.1 port; `FakeBotAPI` and `FakeStripe` script and inspect
/// theirs through this control port.
public final class FakeHost: Sendable {
    /// The host's control port on 127.0.0.1.
    public let controlPort: Int
    private let process: ChildProcess

    private init(controlPort: Int, process: ChildProcess) {
        self.controlPort = controlPort
        self.process = process
    }

    /// Started once, at the first use (a global is initialised lazily and exactly once).
    private static let launch = Task<FakeHost, any Error> { try await FakeHost.start() }

    /// The running host.
    public static func shared() async throws -> FakeHost { try await launch.value }

    /// A new fake of `kind` (`bot_api` with `token`, `stripe` with `api_key`): its id and port.
    func create(_ request: JSONValue) throws -> (id: String, port: Int) {
        let data = try call("POST", "/fakes", request)
        guard let answer = JSONValue(data: data), let id = answer["id"]?.string, let port = answer["port"]?.int else {
            throw Failure(description: "POST /fakes answered \(String(decoding: data, as: UTF8.self))")
        }
        return (id, Int(port))
    }

    /// One control call; throws unless the host answers 2xx.
    func call(_ method: String, _ path: String, _ body: JSONValue? = nil) throws -> Data {
        let (status, answer) = try LoopbackHTTP.exchange(port: controlPort, method: method, path: path, body: body?.data)
        guard (200..<300).contains(status) else {
            throw Failure(description: "\(method) \(path) → \(status) \(String(decoding: answer, as: UTF8.self))")
        }
        return answer
    }

    /// A control call of the fakes' synchronous inspection API (`calls()`, `inject(…)`…). Its failure means the
    /// host is gone, and every later fake call would fail too: the test process stops here with the reason rather
    /// than letting `callCount(…) == 0` pass on an empty answer.
    func mustCall(_ method: String, _ path: String, _ body: JSONValue? = nil) -> Data {
        do {
            return try call(method, path, body)
        } catch {
            fatalError("fake host (scripts/telebot_py/fakes/host.py) failed: \(error)")
        }
    }

    /// `mustCall`, its answer decoded as JSON.
    func mustJSON(_ method: String, _ path: String, _ body: JSONValue? = nil) -> JSONValue {
        let data = mustCall(method, path, body)
        guard let value = JSONValue(data: data) else {
            fatalError("fake host: \(method) \(path) answered no JSON: \(String(decoding: data, as: UTF8.self))")
        }
        return value
    }

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    private static func start() async throws -> FakeHost {
        let directory = NSTemporaryDirectory() + "telebot-fakes-" + UUID().uuidString.prefix(8)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let portFile = directory + "/control-port"
        let process = try ChildProcess(
            [
                "env", "PYTHONPATH=\(TestEnvironment.repoRoot)/scripts", "python3", "-m", "telebot_py.fakes.host",
                "--port-file", portFile, "--parent-pid", String(getpid()),
            ],
            stdout: directory + "/stdout.log", stderr: directory + "/stderr.log")
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            if let text = try? String(contentsOfFile: portFile, encoding: .utf8),
                let port = Int(text.trimmingCharacters(in: .whitespacesAndNewlines))
            {
                return FakeHost(controlPort: port, process: process)
            }
            if let code = process.exitCode {
                let log = (try? String(contentsOfFile: directory + "/stderr.log", encoding: .utf8)) ?? ""
                throw Failure(description: "the fake host exited with \(code): \(log)")
            }
            try await Task.sleep(for: .milliseconds(10))
        }
        process.signal(SIGKILL)
        throw Failure(description: "the fake host did not listen within 30 s (logs in \(directory))")
    }
}

extension JSONValue {
    /// A number of seconds as the host writes it (an integer or a fraction).
    var seconds: Double? {
        switch self {
        case .integer(let value): Double(value)
        case .number(let value): value
        default: nil
        }
    }
}
