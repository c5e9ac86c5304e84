import Foundation
import Support

/// The Telegram Bot API for tests: one fake of the fake host (`FakeHost`, `scripts/telebot_py/fakes/bot_api.py`),
/// a real HTTP server on its own 127.0.0.1 port.
///
/// It serves `POST /bot<token>/<method>`, records every call with its decoded JSON body, answers
/// `{ok: true, result: …}` with plausible results (messages with increasing ids, `t.me/$…` invoice links, `true`
/// for answers and refunds; a second refund of one charge gets `CHARGE_ALREADY_REFUNDED`), and misbehaves on
/// request (`inject`): 429 with `retry_after`, 5xx, `ok: false`, raw non-JSON answers, delays. A wrong token gets
/// 401 and is not recorded.
///
/// ```swift
/// try await FakeBotAPI.with { fake in
///     fake.inject(.rateLimited(retryAfter: 1), method: "sendMessage")
///     // point the client at fake.baseURL with fake.token …
///     try await fake.waitForCalls("sendMessage", count: 2)
/// }
/// ```
public final class FakeBotAPI: Sendable {
    /// A token of the right shape (`<bot id>:<secret>`).
    public static let defaultToken = "7001234567:AAHfakeSecretPartOfTheTokenXYZ0123456"

    /// The token the fake accepts.
    public let token: String
    /// The port it listens on.
    public let port: Int
    /// `http://127.0.0.1:<port>`: the value for `TELEGRAM_API_BASE_URL`.
    public var baseURL: String { "http://127.0.0.1:\(port)" }

    private let host: FakeHost
    /// `/fakes/<id>` on the host's control port.
    private let control: String

    private init(token: String, port: Int, host: FakeHost, control: String) {
        self.token = token
        self.port = port
        self.host = host
        self.control = control
    }

    /// Starts a fake on a free port; call `stop()` when done (or use `with`).
    /// - Parameter token: The bot token it accepts.
    public static func start(token: String = FakeBotAPI.defaultToken) async throws -> FakeBotAPI {
        let host = try await FakeHost.shared()
        do {
            let (id, port) = try host.create(["kind": "bot_api", "token": .string(token)])
            return FakeBotAPI(token: token, port: port, host: host, control: "/fakes/" + id)
        } catch {
            throw StartFailure(reason: "\(error)")
        }
    }

    /// Starts a fake, runs `body`, and stops the fake whatever happens.
    @discardableResult
    public static func with<T: Sendable>(
        token: String = FakeBotAPI.defaultToken,
        _ body: (FakeBotAPI) async throws -> T
    ) async throws -> T {
        let fake = try await start(token: token)
        do {
            let value = try await body(fake)
            await fake.stop()
            return value
        } catch {
            await fake.stop()
            throw error
        }
    }

    /// Stops the server; its port is closed when this returns.
    public func stop() async {
        _ = try? host.call("DELETE", control)
    }

    // MARK: Recorded calls

    /// Calls so far, in arrival order; only those of `method` when given.
    public func calls(_ method: String? = nil) -> [Call] {
        recorded(method).calls
    }

    /// Number of calls of `method` so far.
    public func callCount(_ method: String) -> Int {
        calls(method).count
    }

    /// Requests that came with a wrong token.
    public var unauthorizedCallCount: Int { recorded().unauthorized }

    /// Waits until at least `count` calls of `method` have arrived and returns them.
    /// - Throws: `WaitTimeout` when they do not arrive within `timeout`.
    @discardableResult
    public func waitForCalls(_ method: String, count: Int, timeout: Duration = .seconds(60)) async throws -> [Call] {
        let deadline = ContinuousClock.now + timeout
        while true {
            let calls = calls(method)
            if calls.count >= count { return calls }
            guard ContinuousClock.now < deadline else {
                throw WaitTimeout(method: method, expected: count, arrived: calls.count)
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    // MARK: Scripting

    /// The next `times` calls of `method` get `fault` (after faults scripted earlier for it).
    public func inject(_ fault: Fault, method: String, times: Int = 1) {
        _ = host.mustCall(
            "POST", control + "/faults", ["method": .string(method), "times": .integer(Int64(times)), "fault": fault.json])
    }

    /// Successful calls of `method` answer `result` instead of the computed one (nil restores it).
    public func setResult(_ result: JSON?, for method: String) {
        let body: JSON =
            if let result { ["method": .string(method), "result": result] } else { ["method": .string(method), "clear": true] }
        _ = host.mustCall("POST", control + "/results", body)
    }

    /// Makes `getStarTransactions` list these `StarTransaction` objects, in this order (Telegram lists the newest
    /// first), paged by `offset` and `limit`.
    public func addStarTransactions(_ transactions: [JSON]) {
        _ = host.mustCall("POST", control + "/star-transactions", ["transactions": .array(transactions)])
    }

    /// Forgets calls, faults, scripted results and refunded charges.
    public func reset() {
        _ = host.mustCall("POST", control + "/reset")
    }

    /// The host's record: every call, or only those of `method` (fetched alone, so polling for one method stays
    /// cheap however many other calls the fake has seen).
    private func recorded(_ method: String? = nil) -> (calls: [Call], unauthorized: Int) {
        let query = method.flatMap { $0.addingPercentEncoding(withAllowedCharacters: .alphanumerics) }.map { "?method=" + $0 }
        let answer = host.mustJSON("GET", control + "/calls" + (query ?? ""))
        let calls = (answer["calls"]?.array ?? []).map(Call.init(recorded:))
        return (calls, Int(answer["unauthorized"]?.int ?? 0))
    }
}
