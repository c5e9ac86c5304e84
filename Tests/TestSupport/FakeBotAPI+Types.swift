import Foundation
import Support

extension FakeBotAPI {
    /// One request that reached the fake with the right token.
    public struct Call: Sendable, CustomStringConvertible {
        /// Arrival order, from 0.
        public let index: Int
        /// The Bot API method, such as `sendMessage`.
        public let method: String
        /// The decoded JSON body (`.object([:])` when empty, `.null` when not JSON).
        public let body: JSON
        /// HTTP status the fake answered (or will answer, for a delayed call) with.
        public let status: Int
        public let receivedAt: Date

        public var description: String { "\(index) \(method) → \(status) \(body)" }

        /// A call as the fake host lists it: `{"index", "method", "body", "status", "received_at"}`.
        init(recorded: JSON) {
            index = Int(recorded["index"]?.int ?? -1)
            method = recorded["method"]?.string ?? ""
            body = recorded["body"] ?? .null
            status = Int(recorded["status"]?.int ?? 0)
            receivedAt = Date(timeIntervalSince1970: recorded["received_at"]?.seconds ?? 0)
        }
    }

    /// A scripted misbehaviour, consumed by one call of a method.
    public enum Fault: Sendable, Equatable {
        /// HTTP 429 `{ok:false, error_code:429, parameters:{retry_after}}`.
        case rateLimited(retryAfter: Int)
        /// A Bot API envelope `{ok:false, error_code: status}` with an HTTP 5xx status.
        case serverError(status: Int = 500)
        /// `{ok:false}` with this code and description (HTTP status = code).
        case apiError(code: Int = 400, description: String)
        /// A raw answer that is not a Bot API envelope (a proxy's HTML error page, say).
        case raw(status: Int, body: String)
        /// Waits, then answers normally.
        case delay(Duration)

        /// The fault as the fake host's `POST /fakes/<id>/faults` takes it.
        var json: JSON {
            switch self {
            case .rateLimited(let retryAfter): ["kind": "rate_limited", "retry_after": .integer(Int64(retryAfter))]
            case .serverError(let status): ["kind": "server_error", "status": .integer(Int64(status))]
            case .apiError(let code, let description):
                ["kind": "api_error", "code": .integer(Int64(code)), "description": .string(description)]
            case .raw(let status, let body): ["kind": "raw", "status": .integer(Int64(status)), "body": .string(body)]
            case .delay(let duration): ["kind": "delay", "seconds": .number(duration.inSeconds)]
            }
        }
    }

    /// `waitForCalls` ran out of time.
    public struct WaitTimeout: Error, CustomStringConvertible {
        public let method: String
        public let expected: Int
        public let arrived: Int
        public var description: String { "waited for \(expected) \(method) calls, \(arrived) arrived" }
    }

    /// The fake could not start.
    public struct StartFailure: Error, CustomStringConvertible {
        public let reason: String
        public var description: String { "FakeBotAPI did not start: \(reason)" }
    }
}
