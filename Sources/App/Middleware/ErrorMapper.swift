import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import PGClient

/// Turns any error into the `ProblemError` the client sees, and logs what the client must not see.
///
/// - `ProblemError` and `ProblemConvertible` errors are used as they are.
/// - Hummingbird's `HTTPError`s keep their status; their message is shown for 4xx only.
/// - Hummingbird's "no route" 404 becomes 405 with `Allow` when the path exists with other methods.
/// - A database error caused by a value of the request (`PGError.isRejectedValue`) is 400.
/// - Database unavailability (lost connection, pool exhausted or closed, checkout timeout) is 503 with
///   `Retry-After`, so webhook senders retry.
/// - Everything else is 500 with a generic detail; the real error is logged with the request id.
struct ErrorMapper: Sendable {
    let routes: RouteTable

    func problem(for error: any Error, request: Request, context: AppRequestContext) -> ProblemError {
        switch error {
        case let problem as ProblemError:
            return problem
        case let convertible as any ProblemConvertible:
            return convertible.problem
        case let http as HTTPError:
            if http.status == .notFound, context.endpointPath == nil || context.endpointPath == "NotFound" {
                return routeMiss(request)
            }
            return fromStatus(http.status, message: http.body, headers: http.headers, error: error, request: request, context: context)
        case let responseError as any HTTPResponseError:
            return fromStatus(
                responseError.status, message: nil, headers: [:], error: error, request: request, context: context)
        case is DecodingError:
            return .badRequest("the request body is not valid JSON for this endpoint")
        case let database as PGError where database.isRejectedValue:
            // Only the SQLSTATE and constraint: the server's message may quote the offending value.
            context.logger.warning(
                "request refused by the database",
                metadata: ["sqlstate": "\(database.sqlState?.code ?? "")", "constraint": "\(database.constraint ?? "")"])
            return .badRequest("the request holds a value the server cannot store")
        case let database as PGError where database.isUnavailable:
            context.logger.error("database unavailable", metadata: ["error": "\(database)"])
            return .serviceUnavailable("the database is unavailable; try again shortly")
        case let database as PGError where database.isTransactionRetryable:
            // A deadlock or serialization failure that outlasted the transaction's own retries: the same request
            // succeeds later (a provider redelivers on 503), so it is not the server's 500.
            context.logger.error("database conflict outlasted the retries", metadata: ["error": "\(database)"])
            return .serviceUnavailable("the database was busy with conflicting work; try again shortly")
        case is CancellationError:
            return .serviceUnavailable("the request was cancelled while the server is shutting down")
        default:
            context.logger.error(
                "unhandled error", metadata: ["error": "\(String(reflecting: error))", "error_type": "\(type(of: error))"])
            return .internalError(requestID: context.requestID)
        }
    }

    /// 404 for an unknown path, 405 with `Allow` for a known path with another method.
    func routeMiss(_ request: Request) -> ProblemError {
        let allowed = routes.allowedMethods(for: request.uri.path)
        guard !allowed.isEmpty else { return .notFound() }
        return ProblemError(
            .methodNotAllowed,
            detail: "\(request.method.rawValue) is not allowed here; allowed: \(allowed.joined(separator: ", "))",
            headers: [.allow: allowed.joined(separator: ", ")])
    }

    private func fromStatus(
        _ status: HTTPResponse.Status, message: String?, headers: HTTPFields, error: any Error,
        request: Request, context: AppRequestContext
    ) -> ProblemError {
        if status.code >= 500 {
            context.logger.error("request failed", metadata: ["error": "\(String(reflecting: error))", "status": "\(status.code)"])
            return status == .internalServerError
                ? .internalError(requestID: context.requestID)
                : ProblemError(status, detail: status.reasonPhrase, headers: headers)
        }
        if status == .contentTooLarge {
            return BodyLimitMiddleware.tooLarge(limit: BodyLimitMiddleware.limit(for: request.uri.path))
        }
        return ProblemError(status, detail: message ?? status.reasonPhrase, headers: headers)
    }
}
