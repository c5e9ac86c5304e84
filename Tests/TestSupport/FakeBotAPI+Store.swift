import Foundation
import Synchronization

extension FakeBotAPI {
    /// Everything the fake remembers, behind one lock.
    struct State: Sendable {
        var calls: [Call] = []
        var faults: [String: [Fault]] = [:]
        var results: [String: JSON] = [:]
        var nextMessageID: Int64 = 1
        var refundedCharges: Set<String> = []
        var unauthorizedCalls = 0
        /// What `getStarTransactions` lists (`FakeBotAPI.addStarTransactions`), in the order given.
        var starTransactions: [JSON] = []
    }

    /// An answer to write.
    struct Answer: Sendable {
        var status: Int
        var body: Data
        var delay: Duration?
    }

    /// The fake's shared state and request handling (the router holds it, not the fake itself).
    final class Store: Sendable {
        let token: String
        let state = Mutex(State())

        init(token: String) {
            self.token = token
        }

        var botUser: JSON {
            let id = token.split(separator: ":").first.flatMap { Int64($0) } ?? 1
            return ["id": .integer(id), "is_bot": true, "first_name": "Fake Bot", "username": "fake_bot"]
        }

        /// Records the call and decides the answer, in one critical section (so fault scripts are consumed in
        /// arrival order).
        func answer(pathToken: String, method: String, body: Data) -> Answer {
            guard pathToken == "bot" + token else {
                state.withLock { $0.unauthorizedCalls += 1 }
                return Self.error(401, "Unauthorized")
            }
            let json = body.isEmpty ? JSON.object([:]) : (JSON(data: body) ?? .null)
            return state.withLock { state in
                var answer: Answer
                var delay: Duration?
                let fault = state.faults[method]?.isEmpty == false ? state.faults[method]?.removeFirst() : nil
                switch fault {
                case .rateLimited(let retryAfter):
                    answer = Self.error(
                        429,
                        "Too Many Requests: retry after \(retryAfter)",
                        parameters: ["retry_after": .integer(Int64(retryAfter))]
                    )
                case .serverError(let status):
                    answer = Self.error(status, "Internal Server Error")
                case .apiError(let code, let description):
                    answer = Self.error(code, description)
                case .raw(let status, let text):
                    answer = Answer(status: status, body: Data(text.utf8))
                case .delay(let duration):
                    delay = duration
                    answer = result(method: method, body: json, state: &state)
                case nil:
                    answer = result(method: method, body: json, state: &state)
                }
                answer.delay = delay
                state.calls.append(
                    Call(
                        index: state.calls.count, method: method, body: json, status: answer.status,
                        receivedAt: Date()
                    )
                )
                return answer
            }
        }

        static func ok(_ result: JSON) -> Answer {
            Answer(status: 200, body: JSON.object(["ok": true, "result": result]).data)
        }

        static func error(_ code: Int, _ description: String, parameters: JSON? = nil) -> Answer {
            var envelope: [String: JSON] = [
                "ok": false, "error_code": .integer(Int64(code)), "description": .string(description),
            ]
            if let parameters { envelope["parameters"] = parameters }
            return Answer(status: code, body: JSON.object(envelope).data)
        }
    }
}
