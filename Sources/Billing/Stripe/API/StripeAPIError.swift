/// A failed Stripe API call: Stripe's error object (`{"error": {"type", "code", "message", "param",
/// "decline_code"}}`) and the HTTP status, or a transport failure.
///
/// `kind` follows Stripe's own libraries: 400/404 invalid request (idempotency error when Stripe says so), 401
/// authentication, 402 card, 403 permission, 429 rate limit, anything else API error. `message` and `description`
/// never contain the API key (Stripe masks it; we also redact it).
public struct StripeAPIError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable, Equatable {
        /// 402: the card was declined (see `code`, `declineCode`).
        case card
        /// 400/404: bad parameters or unknown object.
        case invalidRequest
        /// The same `Idempotency-Key` was used with other parameters (or concurrently).
        case idempotency
        /// 401: missing or wrong API key.
        case authentication
        /// 403: the key may not do this.
        case permission
        /// 429: too many requests.
        case rateLimit
        /// 5xx or any other status: Stripe's side failed.
        case api
        /// No HTTP answer: connection refused or lost, timeout.
        case connection
        /// A 2xx whose body was not what the endpoint returns.
        case invalidResponse
    }

    public var kind: Kind
    /// HTTP status; nil for `.connection`.
    public var httpStatus: Int?
    /// Stripe's `error.type` (`card_error`, `invalid_request_error`, `api_error`, `idempotency_error`…).
    public var type: String?
    /// Stripe's `error.code` (`card_declined`, `resource_missing`…).
    public var code: String?
    /// Stripe's `error.message` (or a short transport description), with any API key redacted.
    public var message: String?
    /// Stripe's `error.param`: the parameter at fault.
    public var param: String?
    /// Stripe's `error.decline_code` for card errors.
    public var declineCode: String?
    /// `Request-Id` response header, for Stripe support.
    public var requestID: String?
    /// Attempts made before giving up (1 when not retried).
    public var attempts: Int

    public init(
        kind: Kind, httpStatus: Int? = nil, type: String? = nil, code: String? = nil, message: String? = nil,
        param: String? = nil, declineCode: String? = nil, requestID: String? = nil, attempts: Int = 1
    ) {
        self.kind = kind
        self.httpStatus = httpStatus
        self.type = type
        self.code = code
        self.message = message
        self.param = param
        self.declineCode = declineCode
        self.requestID = requestID
        self.attempts = attempts
    }

    /// The kind Stripe's libraries give a status and error type.
    static func kind(status: Int, type: String?) -> Kind {
        if type == "idempotency_error" { return .idempotency }
        switch status {
        case 400, 404: return .invalidRequest
        case 401: return .authentication
        case 402: return .card
        case 403: return .permission
        case 429: return .rateLimit
        default: return .api
        }
    }

    public var description: String {
        var parts = ["stripe \(kind.rawValue) error"]
        if let httpStatus { parts.append("status \(httpStatus)") }
        if let code { parts.append("code \(code)") }
        if let declineCode { parts.append("decline_code \(declineCode)") }
        if let param { parts.append("param \(param)") }
        if let requestID { parts.append("request \(requestID)") }
        if attempts > 1 { parts.append("after \(attempts) attempts") }
        var text = parts.joined(separator: ", ")
        if let message, !message.isEmpty { text += ": " + message }
        return text
    }
}
