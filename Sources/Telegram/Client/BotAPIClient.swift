import AsyncHTTPClient
import Foundation
import Logging
import Metrics

/// A client for the Telegram Bot API over a shared `HTTPClient`.
///
/// Each call is a `POST baseURL/bot<token>/<method>` with a JSON body. `ok: false` answers become `BotAPIError`
/// with Telegram's code, description and parameters; 429, 5xx and connection errors are retried within
/// `BotAPIConfiguration.retry`. The token never appears in logs or errors.
public struct BotAPIClient: Sendable {
    /// The configuration this client was made with.
    public let configuration: BotAPIConfiguration
    private let httpClient: HTTPClient
    private let logger: Logger
    /// The logger given to AsyncHTTPClient: no lower than `info`, because its trace output includes response
    /// parts, which we cannot redact.
    private let transportLogger: Logger
    private let redact: BotTokenRedactor
    private let methodBaseURL: String

    /// - Parameters:
    ///   - httpClient: The process's shared HTTP client (its owner shuts it down); `HTTPClient.shared` by default.
    ///   - configuration: Token, base URL, timeout and retry policy.
    ///   - logger: Where calls and retries are logged (never with the token).
    public init(
        httpClient: HTTPClient = .shared,
        configuration: BotAPIConfiguration,
        logger: Logger = Logger(label: "telebot.telegram.bot-api")
    ) {
        self.httpClient = httpClient
        self.configuration = configuration
        self.logger = logger
        var transportLogger = logger
        transportLogger.logLevel = max(logger.logLevel, .info)
        self.transportLogger = transportLogger
        self.redact = BotTokenRedactor(token: configuration.token)
        var base = configuration.baseURL
        while base.hasSuffix("/") { base.removeLast() }
        self.methodBaseURL = base + "/bot" + configuration.token + "/"
    }

    /// Calls any Bot API method with a JSON body and decodes its `result`.
    ///
    /// - Parameters:
    ///   - method: The method name, such as `sendMessage`.
    ///   - body: The parameters, encoded as a JSON object.
    ///   - resultType: The type of `result`.
    ///   - retry: A retry policy for this call instead of the configured one.
    /// - Returns: The decoded `result`.
    /// - Throws: `BotAPIError`; `CancellationError` when the task is cancelled while waiting to retry.
    public func call<Body: Encodable & Sendable, Result: Decodable & Sendable>(
        _ method: String,
        body: Body,
        as resultType: Result.Type = Result.self,
        retry: BotAPIRetryPolicy? = nil
    ) async throws -> Result {
        let policy = retry ?? configuration.retry
        let payload: Data
        do {
            payload = try JSONEncoder().encode(body)
        } catch {
            throw BotAPIError(kind: .encoding, method: method, detail: redact(String(describing: error)))
        }
        var attempt = 0
        while true {
            attempt += 1
            let outcome = try await attemptOnce(method: method, payload: payload, as: resultType)
            switch outcome {
            case .success(let result):
                count(method: method, outcome: "ok")
                return result
            case .failure(var error):
                error.attempts = attempt
                count(method: method, outcome: Self.outcomeLabel(error))
                guard let delay = policy.delay(after: error, attempt: attempt) else {
                    logger.warning(
                        "Bot API call failed",
                        metadata: ["method": "\(method)", "attempts": "\(attempt)", "error": "\(error)"]
                    )
                    throw error
                }
                logger.notice(
                    "Bot API call will be retried",
                    metadata: [
                        "method": "\(method)", "attempt": "\(attempt)", "delay": "\(delay)", "error": "\(error)",
                    ]
                )
                try await Task.sleep(for: delay)
            }
        }
    }

    /// One HTTP exchange. Only cancellation is thrown; every other failure is returned.
    private func attemptOnce<Result: Decodable>(
        method: String,
        payload: Data,
        as resultType: Result.Type
    ) async throws -> Swift.Result<Result, BotAPIError> {
        var request = HTTPClientRequest(url: methodBaseURL + method)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "Accept", value: "application/json")
        request.body = .bytes(payload)
        let started = ContinuousClock.now
        let status: Int
        let body: Data
        do {
            let response = try await httpClient.execute(
                request,
                timeout: .nanoseconds(configuration.requestTimeout.nanoseconds),
                logger: transportLogger
            )
            status = Int(response.status.code)
            body = Data(try await response.body.collect(upTo: configuration.maxResponseBytes).readableBytesView)
        } catch {
            if Task.isCancelled { throw CancellationError() }
            return .failure(transportError(error, method: method))
        }
        logger.debug(
            "Bot API call answered",
            metadata: [
                "method": "\(method)", "status": "\(status)",
                "duration": "\(ContinuousClock.now - started)",
            ]
        )
        return decode(body, status: status, method: method, as: resultType)
    }

    /// Turns an answer into a result or an error.
    private func decode<Result: Decodable>(
        _ data: Data,
        status: Int,
        method: String,
        as resultType: Result.Type
    ) -> Swift.Result<Result, BotAPIError> {
        let decoder = JSONDecoder()
        guard let head = try? decoder.decode(BotAPIEnvelopeHead.self, from: data) else {
            if (200..<300).contains(status) {
                return .failure(
                    BotAPIError(kind: .decoding, method: method, detail: "answer is not a Bot API envelope")
                )
            }
            return .failure(BotAPIError(kind: .http, method: method, errorCode: status))
        }
        guard head.ok else {
            return .failure(
                BotAPIError(
                    kind: .api,
                    method: method,
                    errorCode: head.errorCode ?? status,
                    apiDescription: head.description.map { redact($0) },
                    parameters: head.parameters
                )
            )
        }
        do {
            return .success(try decoder.decode(BotAPIResultEnvelope<Result>.self, from: data).result)
        } catch {
            return .failure(BotAPIError(kind: .decoding, method: method, detail: redact(String(describing: error))))
        }
    }

    private func transportError(_ error: any Error, method: String) -> BotAPIError {
        if let error = error as? HTTPClientError,
            error == .deadlineExceeded || error == .readTimeout
                || error == .connectTimeout
        {
            return BotAPIError(kind: .timeout, method: method, detail: redact(String(describing: error)))
        }
        return BotAPIError(kind: .transport, method: method, detail: redact(String(describing: error)))
    }

    private func count(method: String, outcome: String) {
        Counter(label: "telegram_api_requests_total", dimensions: [("method", method), ("outcome", outcome)])
            .increment()
    }

    private static func outcomeLabel(_ error: BotAPIError) -> String {
        if error.isRateLimited { return "rate_limited" }
        switch error.kind {
        case .api, .http: return (error.errorCode ?? 0) >= 500 ? "server_error" : "client_error"
        case .transport, .timeout: return "transport_error"
        case .decoding, .encoding: return "decoding_error"
        }
    }
}
