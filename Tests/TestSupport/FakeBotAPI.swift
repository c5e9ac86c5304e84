import Foundation
import Hummingbird
import Logging

/// A loopback HTTP server that plays the Telegram Bot API for tests.
///
/// It serves `POST /bot<token>/<method>` on 127.0.0.1 (OS-assigned port), records every call with its decoded
/// JSON body, answers `{ok: true, result: …}` with plausible results (messages with increasing ids, `t.me/$…`
/// invoice links, `true` for answers and refunds; a second refund of one charge gets
/// `CHARGE_ALREADY_REFUNDED`), and misbehaves on request (`inject`): 429 with `retry_after`, 5xx, `ok: false`,
/// raw non-JSON answers, delays. A wrong token gets 401 and is not recorded.
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

    let store: Store
    private let server: Task<Void, any Error>

    private init(token: String, port: Int, store: Store, server: Task<Void, any Error>) {
        self.token = token
        self.port = port
        self.store = store
        self.server = server
    }

    /// Starts a fake on a free port; call `stop()` when done (or use `with`).
    /// - Parameter token: The bot token it accepts.
    public static func start(token: String = FakeBotAPI.defaultToken) async throws -> FakeBotAPI {
        let store = Store(token: token)
        let router = Router()
        router.post("/{bot}/{method}") { request, context -> Response in
            let bot = context.parameters.get("bot") ?? ""
            let method = context.parameters.get("method") ?? ""
            let body = try await request.body.collect(upTo: 4 << 20)
            let answer = store.answer(pathToken: bot, method: method, body: Data(body.readableBytesView))
            if let delay = answer.delay { try await Task.sleep(for: delay) }
            return Response(
                status: .init(code: answer.status),
                headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(bytes: answer.body))
            )
        }
        let (ports, portSink) = AsyncStream<Int>.makeStream()
        let app = Application(
            router: router,
            configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in
                portSink.yield(channel.localAddress?.port ?? 0)
                portSink.finish()
            },
            logger: Logger(label: "telebot.test.fake-bot-api", factory: { _ in SwiftLogNoOpLogHandler() })
        )
        let server = Task {
            defer { portSink.finish() }
            try await app.run()
        }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next(), port > 0 else {
            server.cancel()
            let reason: String
            do {
                try await server.value
                reason = "server ended before listening"
            } catch {
                reason = "\(error)"
            }
            throw StartFailure(reason: reason)
        }
        return FakeBotAPI(token: token, port: port, store: store, server: server)
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

    /// Stops the server and waits until its port is closed.
    public func stop() async {
        server.cancel()
        _ = try? await server.value
    }

    // MARK: Recorded calls

    /// Calls so far, in arrival order; only those of `method` when given.
    public func calls(_ method: String? = nil) -> [Call] {
        store.state.withLock { state in
            method.map { method in state.calls.filter { $0.method == method } } ?? state.calls
        }
    }

    /// Number of calls of `method` so far.
    public func callCount(_ method: String) -> Int {
        store.state.withLock { state in state.calls.count(where: { $0.method == method }) }
    }

    /// Requests that came with a wrong token.
    public var unauthorizedCallCount: Int { store.state.withLock { $0.unauthorizedCalls } }

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
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    // MARK: Scripting

    /// The next `times` calls of `method` get `fault` (after faults scripted earlier for it).
    public func inject(_ fault: Fault, method: String, times: Int = 1) {
        store.state.withLock { state in
            state.faults[method, default: []].append(contentsOf: repeatElement(fault, count: max(0, times)))
        }
    }

    /// Successful calls of `method` answer `result` instead of the computed one (nil restores it).
    public func setResult(_ result: JSON?, for method: String) {
        store.state.withLock { $0.results[method] = result }
    }

    /// Forgets calls, faults, scripted results and refunded charges.
    public func reset() {
        store.state.withLock { $0 = State() }
    }
}
