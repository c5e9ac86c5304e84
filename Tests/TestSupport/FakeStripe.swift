import Foundation
import Support

/// The Stripe API for tests: one fake of the fake host (`FakeHost`, `scripts/telebot_py/fakes/stripe_api.py`), a
/// real HTTP server on its own 127.0.0.1 port. It plays the parts of the Stripe API the server calls:
/// `POST /v1/customers`, `POST /v1/checkout/sessions`, `POST /v1/billing_portal/sessions`, `POST /v1/refunds`,
/// `POST /v1/subscriptions/{id}` (`cancel_at_period_end`), `GET /v1/events`, and `GET` of any object it created or
/// a test stubbed (`/v1/subscriptions/sub_…`).
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

    private let host: FakeHost
    /// `/fakes/<id>` on the host's control port.
    private let control: String

    private init(apiKey: String, port: Int, host: FakeHost, control: String) {
        self.apiKey = apiKey
        self.port = port
        self.host = host
        self.control = control
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
        let host = try await FakeHost.shared()
        let (id, port) = try host.create(["kind": "stripe", "api_key": .string(apiKey)])
        return FakeStripe(apiKey: apiKey, port: port, host: host, control: "/fakes/" + id)
    }

    /// Stops the server; its port is closed when this returns.
    public func stop() async {
        _ = try? host.call("DELETE", control)
    }

    // MARK: Inspection

    /// Every request received so far, in arrival order of their answers.
    public var requests: [RecordedRequest] {
        (host.mustJSON("GET", control + "/requests")["requests"]?.array ?? []).map(RecordedRequest.init(recorded:))
    }

    /// Requests to `path` (without query).
    public func requests(path: String) -> [RecordedRequest] { requests.filter { $0.path == path } }

    /// Ids of the objects of `kind` created so far (replays create none).
    public func createdIDs(_ kind: ObjectKind) -> [String] {
        let answer = host.mustJSON("GET", control + "/created?kind=" + kind.rawValue)
        return (answer["ids"]?.array ?? []).compactMap(\.string)
    }

    /// The stored JSON of an object by id, created or stubbed.
    public func objectJSON(id: String) -> Data? {
        try? host.call("GET", control + "/objects/" + id)
    }

    // MARK: Scripting

    /// The next `count` requests (to `path` when given) fail with `fault`. Faults queue in order.
    public func inject(_ fault: Fault, count: Int = 1, path: String? = nil) {
        _ = host.mustCall(
            "POST", control + "/faults",
            ["count": .integer(Int64(count)), "path": path.map(JSONValue.string) ?? .null, "fault": fault.json])
    }

    /// Makes `GET path` answer `json` (200), for objects the fake does not create (`/v1/subscriptions/sub_1`).
    public func stub(path: String, json: Data) {
        _ = host.mustCall(
            "POST", control + "/objects", ["path": .string(path), "json": .string(String(decoding: json, as: UTF8.self))])
    }

    /// Makes `GET /v1/events` list these event bodies (from `FakeStripe.invoicePaid(…)` and friends), each exactly
    /// as given. Listed newest first (by `created`, then the later added first), like Stripe.
    public func addEvents(_ bodies: [Data]) {
        let events = bodies.map { JSONValue.string(String(decoding: $0, as: UTF8.self)) }
        _ = host.mustCall("POST", control + "/events", ["events": .array(events)])
    }

    /// Forgets requests, faults, objects and idempotency keys.
    public func reset() {
        _ = host.mustCall("POST", control + "/reset")
    }
}
