import AsyncHTTPClient
import Foundation
import Logging

/// Calls the Stripe API over a shared AsyncHTTPClient `HTTPClient`.
///
/// Bodies are form-encoded in Stripe's bracket notation (`StripeForm`); `Idempotency-Key` is sent when given and
/// reused unchanged on every retry; see `StripeRetryPolicy` for what is retried. Failures are `StripeAPIError`
/// (or `CancellationError` when the task is cancelled). The API key is only ever written into the
/// `Authorization` header: never logged, never in an error.
public struct StripeClient: Sendable {
    public let configuration: StripeClientConfiguration
    let httpClient: HTTPClient
    let logger: Logger

    /// Largest response body read (Stripe objects are a few KiB).
    static let maxResponseBytes = 4 << 20

    /// - Parameters:
    ///   - configuration: key, base URLs, retry policy.
    ///   - httpClient: the application's shared client (not shut down by this type).
    ///   - logger: for retries and failures; metadata `stripe_path`, `stripe_request_id`, `http_status`.
    public init(configuration: StripeClientConfiguration, httpClient: HTTPClient, logger: Logger) {
        self.configuration = configuration
        self.httpClient = httpClient
        self.logger = logger
    }

    /// HTTP methods the client uses.
    enum Method: String, Sendable {
        case get = "GET"
        case post = "POST"
    }

    /// Sends one API request, retrying where Stripe says that is safe, and decodes a 2xx body as `Response`.
    func send<Response: Decodable>(
        _ method: Method, _ path: String, form: StripeForm = StripeForm(), idempotencyKey: String? = nil,
        as: Response.Type = Response.self
    ) async throws -> Response {
        let body = try await sendRaw(method, path, form: form, idempotencyKey: idempotencyKey)
        do {
            return try JSONDecoder().decode(Response.self, from: body.data)
        } catch {
            throw StripeAPIError(
                kind: .invalidResponse, httpStatus: body.status, message: "unexpected response body for \(path)",
                requestID: body.requestID, attempts: body.attempts)
        }
    }

    /// A 2xx answer.
    struct RawResponse: Sendable {
        var status: Int
        var data: Data
        var requestID: String?
        var attempts: Int
    }

    /// Sends one API request with retries and returns the first 2xx answer.
    func sendRaw(
        _ method: Method, _ path: String, form: StripeForm, idempotencyKey: String?
    ) async throws -> RawResponse {
        let request = makeRequest(method, path, form: form, idempotencyKey: idempotencyKey)
        // Only a GET or a POST with an idempotency key can be repeated without the risk of doing it twice.
        let repeatable = method == .get || idempotencyKey != nil
        let policy = configuration.retry
        var attempt = 0
        while true {
            attempt += 1
            let outcome = await attemptOnce(request, path: path, attempt: attempt)
            switch outcome {
            case .success(let response):
                return response
            case .cancelled:
                throw CancellationError()
            case .failure(let error, let shouldRetry, let retryAfter):
                guard repeatable, shouldRetry, attempt < policy.maxAttempts else {
                    var final = error
                    final.attempts = attempt
                    logger.warning(
                        "stripe request failed",
                        metadata: [
                            "stripe_path": "\(path)", "stripe_error": "\(final.kind.rawValue)",
                            "http_status": "\(final.httpStatus.map(String.init) ?? "none")",
                            "stripe_request_id": "\(final.requestID ?? "none")", "attempts": "\(attempt)",
                        ])
                    throw final
                }
                let delay = policy.delay(beforeRetry: attempt, retryAfterSeconds: retryAfter)
                logger.info(
                    "stripe request will be retried",
                    metadata: [
                        "stripe_path": "\(path)", "stripe_error": "\(error.kind.rawValue)",
                        "http_status": "\(error.httpStatus.map(String.init) ?? "none")", "attempt": "\(attempt)",
                        "delay_ms": "\(delay.components.seconds * 1000 + delay.components.attoseconds / 1_000_000_000_000_000)",
                    ])
                try await Task.sleep(for: delay)
            }
        }
    }

    private enum Outcome {
        case success(RawResponse)
        case failure(StripeAPIError, shouldRetry: Bool, retryAfterSeconds: Double?)
        case cancelled
    }

    private func attemptOnce(_ request: HTTPClientRequest, path: String, attempt: Int) async -> Outcome {
        let response: HTTPClientResponse
        let data: Data
        do {
            response = try await httpClient.execute(request, timeout: .milliseconds(Self.milliseconds(configuration.requestTimeout)))
            let buffer = try await response.body.collect(upTo: Self.maxResponseBytes)
            data = Data(buffer.readableBytesView)
        } catch {
            if error is CancellationError || Task.isCancelled { return .cancelled }
            // No answer (or a truncated one): Stripe's libraries treat these as network errors, safe to retry
            // with the same idempotency key.
            let failure = StripeAPIError(
                kind: .connection, message: redact("\(type(of: error)): \(error)"), attempts: attempt)
            return .failure(failure, shouldRetry: true, retryAfterSeconds: nil)
        }
        let status = Int(response.status.code)
        let requestID = response.headers.first(name: "Request-Id")
        if (200..<300).contains(status) {
            return .success(RawResponse(status: status, data: data, requestID: requestID, attempts: attempt))
        }
        let error = decodeError(status: status, body: data, requestID: requestID, attempt: attempt)
        let shouldRetry: Bool
        switch response.headers.first(name: "Stripe-Should-Retry")?.lowercased() {
        case "true": shouldRetry = true
        case "false": shouldRetry = false
        default: shouldRetry = status == 409 || status == 429 || status >= 500
        }
        let retryAfter = response.headers.first(name: "Retry-After").flatMap { Double($0) }
        return .failure(error, shouldRetry: shouldRetry, retryAfterSeconds: retryAfter)
    }

    private func makeRequest(_ method: Method, _ path: String, form: StripeForm, idempotencyKey: String?)
        -> HTTPClientRequest
    {
        let encoded = form.encoded
        var url = configuration.apiURL(path)
        if method == .get, !encoded.isEmpty { url += "?" + encoded }
        var request = HTTPClientRequest(url: url)
        request.method = method == .get ? .GET : .POST
        request.headers.add(name: "Authorization", value: "Bearer \(configuration.apiKey)")
        request.headers.add(name: "Accept", value: "application/json")
        request.headers.add(name: "User-Agent", value: "telebot-stripe/1.0")
        if let apiVersion = configuration.apiVersion { request.headers.add(name: "Stripe-Version", value: apiVersion) }
        if let idempotencyKey { request.headers.add(name: "Idempotency-Key", value: idempotencyKey) }
        if method == .post {
            request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
            request.body = .bytes(Array(encoded.utf8))
        }
        return request
    }

    private func decodeError(status: Int, body: Data, requestID: String?, attempt: Int) -> StripeAPIError {
        let payload = try? JSONDecoder().decode(ErrorEnvelope.self, from: body)
        let object = payload?.error
        return StripeAPIError(
            kind: StripeAPIError.kind(status: status, type: object?.type), httpStatus: status, type: object?.type,
            code: object?.code, message: (object?.message).map(redact) ?? "HTTP \(status) from Stripe",
            param: object?.param, declineCode: object?.declineCode, requestID: requestID, attempts: attempt)
    }

    /// Removes the configured key, and anything shaped like a Stripe secret key, from text bound for errors.
    func redact(_ text: String) -> String {
        var text = text
        if !configuration.apiKey.isEmpty {
            text = text.replacingOccurrences(of: configuration.apiKey, with: "[redacted]")
        }
        return text.replacingOccurrences(
            of: #"\b(sk|rk)_(live|test)_[A-Za-z0-9]+"#, with: "$1_$2_[redacted]", options: .regularExpression)
    }

    static func milliseconds(_ duration: Duration) -> Int64 {
        let components = duration.components
        return components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000
    }

    private struct ErrorEnvelope: Decodable {
        struct Body: Decodable {
            var type: String?
            var code: String?
            var message: String?
            var param: String?
            var declineCode: String?

            enum CodingKeys: String, CodingKey {
                case type, code, message, param
                case declineCode = "decline_code"
            }
        }

        var error: Body
    }
}
