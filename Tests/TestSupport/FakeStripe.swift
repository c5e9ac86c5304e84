import Foundation
import Hummingbird
import Logging
import Synchronization

/// A real HTTP server on 127.0.0.1 (OS-assigned port) that plays the parts of the Stripe API the server calls:
/// `POST /v1/customers`, `POST /v1/checkout/sessions`, `POST /v1/billing_portal/sessions`, and `GET` of any object
/// it created or a test stubbed (`/v1/subscriptions/sub_…`).
///
/// It checks `Authorization: Bearer <apiKey>`, records every request (form fields decoded, headers), honours
/// `Idempotency-Key` like Stripe (same key and parameters → the stored answer, no new object; same key, other
/// parameters → 400 `idempotency_error`), and answers with scripted faults (`inject(_:count:path:)`).
///
/// ```swift
/// try await FakeStripe.with { stripe in
///     let client = StripeClient(configuration: .init(apiKey: stripe.apiKey, apiBaseURL: stripe.baseURL, …), …)
/// }
/// ```
public final class FakeStripe: Sendable {
    /// The key the fake accepts unless told otherwise.
    public static let defaultAPIKey = "sk_test_fakeStripeKey0123456789abcdef"

    /// The accepted API key.
    public let apiKey: String
    /// The port the server listens on.
    public let port: Int
    /// `http://127.0.0.1:<port>`: use as `STRIPE_API_BASE_URL`.
    public var baseURL: String { "http://127.0.0.1:\(port)" }

    let store: Store
    private let serverTask: Task<Void, any Error>

    private init(apiKey: String, port: Int, store: Store, serverTask: Task<Void, any Error>) {
        self.apiKey = apiKey
        self.port = port
        self.store = store
        self.serverTask = serverTask
    }

    /// Starts a fake, runs `body` with it, then stops it (also when `body` throws).
    public static func with<T: Sendable>(
        apiKey: String = FakeStripe.defaultAPIKey, _ body: (FakeStripe) async throws -> T
    ) async throws -> T {
        let fake = try await start(apiKey: apiKey)
        do {
            let value = try await body(fake)
            await fake.stop()
            return value
        } catch {
            await fake.stop()
            throw error
        }
    }

    /// Starts a fake; call `stop()` when done (prefer `with`).
    public static func start(apiKey: String = FakeStripe.defaultAPIKey) async throws -> FakeStripe {
        let store = Store(apiKey: apiKey)
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        var logger = Logger(label: "FakeStripe")
        logger.logLevel = .critical
        let app = Application(
            responder: CallbackResponder<BasicRequestContext> { request, _ in try await store.respond(to: request) },
            configuration: ApplicationConfiguration(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in
                if let port = channel.localAddress?.port { continuation.yield(port) }
                continuation.finish()
            },
            logger: logger
        )
        let task = Task {
            defer { continuation.finish() }
            try await app.run()
        }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else {
            task.cancel()
            _ = await task.result
            throw StartFailure()
        }
        return FakeStripe(apiKey: apiKey, port: port, store: store, serverTask: task)
    }

    /// Stops the server and waits for it.
    public func stop() async {
        serverTask.cancel()
        _ = await serverTask.result
    }

    struct StartFailure: Error, CustomStringConvertible {
        var description: String { "FakeStripe could not start its server" }
    }

    // MARK: Inspection

    /// Every request received so far, in arrival order of their answers.
    public var requests: [RecordedRequest] { store.state.withLock { $0.requests } }

    /// Requests to `path` (without query).
    public func requests(path: String) -> [RecordedRequest] { requests.filter { $0.path == path } }

    /// Ids of the objects of `kind` created so far (replays create none).
    public func createdIDs(_ kind: ObjectKind) -> [String] {
        store.state.withLock { state in state.created.filter { $0.kind == kind }.map(\.id) }
    }

    /// The stored JSON of an object by id, created or stubbed.
    public func objectJSON(id: String) -> Data? {
        store.state.withLock { state in state.objects.first { $0.key.hasSuffix("/" + id) }?.value }
    }

    // MARK: Scripting

    /// The next `count` requests (to `path` when given) fail with `fault`. Faults queue in order.
    public func inject(_ fault: Fault, count: Int = 1, path: String? = nil) {
        store.state.withLock { state in
            for _ in 0..<count { state.faults.append(Store.ScriptedFault(fault: fault, path: path)) }
        }
    }

    /// Makes `GET path` answer `json` (200), for objects the fake does not create (`/v1/subscriptions/sub_1`).
    public func stub(path: String, json: Data) {
        store.state.withLock { $0.objects[path] = json }
    }

    /// Forgets requests, faults, objects and idempotency keys.
    public func reset() {
        store.state.withLock { $0 = Store.State() }
    }
}
