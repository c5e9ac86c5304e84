import Foundation
import Support

extension FakeStripe {
    /// One request the fake received, as it arrived, with the status it answered.
    public struct RecordedRequest: Sendable {
        public var method: String
        /// Path without the query (`/v1/checkout/sessions`).
        public var path: String
        public var query: String?
        /// Header values by lowercased name (repeated headers joined with ", ").
        public var headers: [String: String]
        /// Form fields (body of a POST, query of a GET), percent-decoded, in order.
        public var formFields: [FormField]
        /// The body as received.
        public var body: String
        /// Status the fake answered with.
        public var status: Int
        /// True when the answer was a stored idempotent result.
        public var replayed: Bool
        /// The scripted fault applied to this request, if any (`"rateLimit"`, `"serverError"`…).
        public var fault: String?

        /// Form fields by name (the last one wins for repeated names): `form["metadata[user_id]"]`.
        public var form: [String: String] {
            var fields: [String: String] = [:]
            for field in formFields { fields[field.name] = field.value }
            return fields
        }

        /// A request as the fake host lists it (`form` as `[[name, value], …]`).
        init(recorded: JSONValue) {
            method = recorded["method"]?.string ?? ""
            path = recorded["path"]?.string ?? ""
            query = recorded["query"]?.string
            headers = (recorded["headers"]?.object ?? [:]).compactMapValues(\.string)
            formFields = (recorded["form"]?.array ?? []).compactMap { pair in
                guard let name = pair[0]?.string, let value = pair[1]?.string else { return nil }
                return FormField(name: name, value: value)
            }
            body = recorded["body"]?.string ?? ""
            status = Int(recorded["status"]?.int ?? 0)
            replayed = recorded["replayed"]?.bool ?? false
            fault = recorded["fault"]?.string
        }

        public var idempotencyKey: String? { headers["idempotency-key"] }
        public var authorization: String? { headers["authorization"] }
        public var stripeVersion: String? { headers["stripe-version"] }
    }

    /// One decoded `name=value` form pair.
    public struct FormField: Sendable, Equatable {
        public var name: String
        public var value: String

        public init(name: String, value: String) {
            self.name = name
            self.value = value
        }
    }

    /// A scripted failure for the next matching request(s).
    public enum Fault: Sendable {
        /// 429 `rate_limit` (not executed, not stored for its idempotency key).
        case rateLimit
        /// 500 `api_error` (not executed, not stored).
        case serverError
        /// 402 `card_error` / `card_declined` with the given decline code.
        case cardDeclined(declineCode: String = "generic_decline")
        /// Any Stripe error answer; `headers` lets a test send `Stripe-Should-Retry` or `Retry-After`.
        case error(status: Int, type: String, code: String? = nil, message: String, headers: [String: String] = [:])
        /// Wait, then handle the request normally.
        case delay(Duration)
        /// Execute the request (objects created, result stored for its idempotency key) but answer 500, as when
        /// the response is lost on the way back: a retry with the same key must get the stored result.
        case lostResponse

        /// The fault as the fake host's `POST /fakes/<id>/faults` takes it.
        var json: JSONValue {
            switch self {
            case .rateLimit: ["kind": "rate_limit"]
            case .serverError: ["kind": "server_error"]
            case .cardDeclined(let declineCode): ["kind": "card_declined", "decline_code": .string(declineCode)]
            case .error(let status, let type, let code, let message, let headers):
                [
                    "kind": "error", "status": .integer(Int64(status)), "type": .string(type),
                    "code": code.map(JSONValue.string) ?? .null, "message": .string(message),
                    "headers": .object(headers.mapValues(JSONValue.string)),
                ]
            case .delay(let duration): ["kind": "delay", "seconds": .number(duration.inSeconds)]
            case .lostResponse: ["kind": "lost_response"]
            }
        }
    }

    /// Kinds of objects the fake creates.
    public enum ObjectKind: String, Sendable, CaseIterable {
        case customer = "cus"
        case checkoutSession = "cs_test"
        case billingPortalSession = "bps"
    }

    /// Decodes `application/x-www-form-urlencoded` text (`+` is a space).
    public static func decodeForm(_ text: String) -> [FormField] {
        text.split(separator: "&", omittingEmptySubsequences: true).map { pair in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = percentDecode(String(parts[0]))
            let value = parts.count > 1 ? percentDecode(String(parts[1])) : ""
            return FormField(name: name, value: value)
        }
    }

    static func percentDecode(_ text: String) -> String {
        let spaced = text.replacingOccurrences(of: "+", with: " ")
        return spaced.removingPercentEncoding ?? spaced
    }
}
