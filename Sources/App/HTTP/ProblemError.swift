import Foundation
import HTTPTypes
import Hummingbird

/// An error that becomes an RFC 7807 `application/problem+json` response. Routes throw it (or a domain error that
/// conforms to `ProblemConvertible`); `ProblemMiddleware` renders every error through it.
///
///     throw ProblemError(.conflict, detail: "a checkout with this Idempotency-Key is still running")
///     throw ProblemError.tooManyRequests("slow down", retryAfterSeconds: 3)
struct ProblemError: Error, HTTPResponseError, Sendable, Equatable, CustomStringConvertible {
    /// HTTP status, also the `status` member.
    var status: HTTPResponse.Status
    /// Short summary; the status reason phrase unless a route gives a specific one.
    var title: String
    /// Explanation for the client. Never secrets, SQL or stack traces.
    var detail: String
    /// A URI naming the problem type; `about:blank` when the status says it all.
    var type: String
    /// Extra response headers: `Retry-After`, `WWW-Authenticate`, `Allow`.
    var headers: HTTPFields

    /// - Parameters:
    ///   - status: HTTP status.
    ///   - title: summary (default: the reason phrase).
    ///   - detail: explanation for the client.
    ///   - type: problem type URI (default `about:blank`).
    ///   - headers: extra response headers.
    init(
        _ status: HTTPResponse.Status, title: String? = nil, detail: String, type: String = "about:blank",
        headers: HTTPFields = [:]
    ) {
        self.status = status
        self.title = title ?? status.reasonPhrase
        self.detail = detail
        self.type = type
        self.headers = headers
    }

    var description: String { "\(status.code) \(title): \(detail)" }

    static func badRequest(_ detail: String) -> ProblemError { ProblemError(.badRequest, detail: detail) }

    /// 401 with a `WWW-Authenticate` challenge.
    static func unauthorized(_ detail: String, challenge: String = "Bearer") -> ProblemError {
        ProblemError(.unauthorized, detail: detail, headers: [.wwwAuthenticate: challenge])
    }

    static func forbidden(_ detail: String) -> ProblemError { ProblemError(.forbidden, detail: detail) }
    static func notFound(_ detail: String = "no such resource") -> ProblemError { ProblemError(.notFound, detail: detail) }
    static func conflict(_ detail: String) -> ProblemError { ProblemError(.conflict, detail: detail) }
    static func unprocessable(_ detail: String) -> ProblemError { ProblemError(.unprocessableContent, detail: detail) }

    /// 429 with `Retry-After`.
    static func tooManyRequests(_ detail: String, retryAfterSeconds: Int) -> ProblemError {
        ProblemError(.tooManyRequests, detail: detail, headers: [.retryAfter: String(max(0, retryAfterSeconds))])
    }

    /// 503 with `Retry-After`.
    static func serviceUnavailable(_ detail: String, retryAfterSeconds: Int = 1) -> ProblemError {
        ProblemError(.serviceUnavailable, detail: detail, headers: [.retryAfter: String(max(0, retryAfterSeconds))])
    }

    /// 500 that says nothing about the cause (which goes to the log with the request id).
    static func internalError(requestID: String) -> ProblemError {
        ProblemError(
            .internalServerError,
            detail: requestID.isEmpty
                ? "an unexpected error occurred" : "an unexpected error occurred (request id \(requestID))")
    }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        response(requestID: (context as? AppRequestContext)?.requestID ?? "")
    }

    /// The problem+json response, with `request_id` as an extension member when known.
    func response(requestID: String) -> Response {
        var headers = self.headers
        headers[.contentType] = "application/problem+json"
        let body = ProblemBody(
            type: type, title: title, status: Int(status.code), detail: detail, requestID: requestID.isEmpty ? nil : requestID)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = (try? encoder.encode(body)) ?? Data(#"{"status":500,"title":"Internal Server Error"}"#.utf8)
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    private struct ProblemBody: Encodable {
        let type: String
        let title: String
        let status: Int
        let detail: String
        let requestID: String?

        enum CodingKeys: String, CodingKey {
            case type, title, status, detail
            case requestID = "request_id"
        }
    }
}

/// Domain errors that know their HTTP problem. Conform in the App module (e.g. `extension BillingError:
/// ProblemConvertible` in `Routes/`), so domain modules stay free of HTTP.
protocol ProblemConvertible: Error {
    var problem: ProblemError { get }
}
