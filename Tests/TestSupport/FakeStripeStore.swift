import Foundation
import Hummingbird
import Synchronization

extension FakeStripe {
    /// The fake's state and request handling, shared with the server's responder.
    final class Store: Sendable {
        struct ScriptedFault: Sendable {
            var fault: Fault
            var path: String?
        }

        struct StoredAnswer: Sendable {
            var method: String
            var path: String
            var body: String
            var status: Int
            var json: Data
        }

        struct Created: Sendable {
            var kind: ObjectKind
            var id: String
        }

        struct State: Sendable {
            var requests: [RecordedRequest] = []
            var faults: [ScriptedFault] = []
            var idempotent: [String: StoredAnswer] = [:]
            /// JSON by GET path (`/v1/customers/cus_1`).
            var objects: [String: Data] = [:]
            var created: [Created] = []
            var counter = 0
            /// Events `GET /v1/events` lists (`FakeStripe.addEvents`), in the order added.
            var events: [ListedEvent] = []
        }

        /// A computed answer.
        struct Answer: Sendable {
            var status: Int
            var json: Data
            var headers: [String: String] = [:]
        }

        let apiKey: String
        let state = Mutex(State())

        init(apiKey: String) {
            self.apiKey = apiKey
        }

        func respond(to request: Request) async throws -> Response {
            var request = request
            let bodyBuffer = try await request.collectBody(upTo: 1 << 20)
            let body = String(decoding: bodyBuffer.readableBytesView, as: UTF8.self)
            var headers: [String: String] = [:]
            for field in request.headers {
                let name = field.name.canonicalName
                headers[name] = headers[name].map { $0 + ", " + field.value } ?? field.value
            }
            let method = request.method.rawValue
            let path = request.uri.path
            let query = request.uri.query
            let form = FakeStripe.decodeForm(method == "GET" ? (query ?? "") : body)
            var recorded = RecordedRequest(
                method: method, path: path, query: query, headers: headers, formFields: form, body: body, status: 0,
                replayed: false, fault: nil)

            let fault = state.withLock { state -> Fault? in
                guard let index = state.faults.firstIndex(where: { $0.path == nil || $0.path == path }) else {
                    return nil
                }
                return state.faults.remove(at: index).fault
            }
            recorded.fault = fault?.name
            if case .delay(let duration) = fault { try await Task.sleep(for: duration) }
            if let fault, let answer = Self.faultAnswer(fault) {
                return finish(recorded, answer)
            }
            let lostResponse = if case .lostResponse = fault { true } else { false }

            let (answer, replayed) = state.withLock { state in
                handle(&state, method: method, path: path, body: body, form: form, headers: headers)
            }
            recorded.replayed = replayed
            if lostResponse {
                return finish(recorded, Self.errorAnswer(500, type: "api_error", message: "response lost (fake)"))
            }
            return finish(recorded, answer)
        }

        private func finish(_ recorded: RecordedRequest, _ answer: Answer) -> Response {
            var recorded = recorded
            recorded.status = answer.status
            state.withLock { $0.requests.append(recorded) }
            var fields = HTTPFields()
            fields[.contentType] = "application/json"
            for (name, value) in answer.headers {
                if let fieldName = HTTPFields.Element.Name(name) { fields[fieldName] = value }
            }
            if let requestID = HTTPFields.Element.Name("Request-Id") { fields[requestID] = "req_fake\(UInt32.random(in: 0...UInt32.max))" }
            return Response(
                status: HTTPResponse.Status(code: answer.status), headers: fields,
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: answer.json)))
        }

        /// Runs under the lock: authentication, idempotency, then the endpoint.
        private func handle(
            _ state: inout State, method: String, path: String, body: String, form: [FormField],
            headers: [String: String]
        ) -> (Answer, replayed: Bool) {
            guard headers["authorization"] == "Bearer \(apiKey)" else {
                return (Self.errorAnswer(401, type: "invalid_request_error", message: "Invalid API Key provided"), false)
            }
            let key = method == "POST" ? headers["idempotency-key"] : nil
            if let key, let stored = state.idempotent[key] {
                guard stored.method == method, stored.path == path, stored.body == body else {
                    let message =
                        "Keys for idempotent requests can only be used with the same parameters they were first used with."
                    return (Self.errorAnswer(400, type: "idempotency_error", message: message), false)
                }
                return (Answer(status: stored.status, json: stored.json, headers: ["Idempotent-Replayed": "true"]), true)
            }
            let answer = route(&state, method: method, path: path, form: form)
            // Like Stripe, results of requests that began executing are stored (errors included); the faults above
            // happen "before execution" and are not.
            if let key {
                state.idempotent[key] = StoredAnswer(
                    method: method, path: path, body: body, status: answer.status, json: answer.json)
            }
            return (answer, false)
        }

        static func faultAnswer(_ fault: Fault) -> Answer? {
            switch fault {
            case .rateLimit:
                return errorAnswer(
                    429, type: "invalid_request_error", code: "rate_limit", message: "Too many requests (fake).")
            case .serverError:
                return errorAnswer(500, type: "api_error", message: "Something went wrong on Stripe's end (fake).")
            case .cardDeclined(let declineCode):
                var answer = errorAnswer(
                    402, type: "card_error", code: "card_declined", message: "Your card was declined.")
                answer.json = json([
                    "error": [
                        "type": "card_error", "code": "card_declined", "decline_code": declineCode,
                        "message": "Your card was declined.",
                    ]
                ])
                return answer
            case .error(let status, let type, let code, let message, let headers):
                var answer = errorAnswer(status, type: type, code: code, message: message)
                answer.headers = headers
                return answer
            case .delay, .lostResponse:
                return nil
            }
        }

        static func errorAnswer(_ status: Int, type: String, code: String? = nil, param: String? = nil, message: String)
            -> Answer
        {
            var error: [String: Any] = ["type": type, "message": message]
            if let code { error["code"] = code }
            if let param { error["param"] = param }
            return Answer(status: status, json: json(["error": error]))
        }

        static func json(_ object: [String: Any]) -> Data {
            (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
        }
    }
}
