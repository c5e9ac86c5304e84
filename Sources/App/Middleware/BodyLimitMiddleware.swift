import HTTPTypes
import Hummingbird
import NIOCore

/// Refuses bodies over `HTTPLimits.maxBodyBytes` with 413: at once when `Content-Length` says so, otherwise while
/// collecting a streamed (chunked) body. Routes then find the whole body collected in `request.body`, so reading
/// it twice (signature check, then decode) is free.
struct BodyLimitMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    let maxBytes: Int

    init(maxBytes: Int = HTTPLimits.maxBodyBytes) {
        self.maxBytes = maxBytes
    }

    static let tooLarge = ProblemError(
        .contentTooLarge, detail: "the request body is larger than \(HTTPLimits.maxBodyBytes) bytes (1 MiB)")

    func handle(
        _ request: Request, context: AppRequestContext,
        next: (Request, AppRequestContext) async throws -> Response
    ) async throws -> Response {
        if let length = request.headers[.contentLength], let bytes = Int(length), bytes > maxBytes {
            return rejected(context)
        }
        var request = request
        do {
            _ = try await request.collectBody(upTo: maxBytes)
        } catch is NIOTooManyBytesError {
            return rejected(context)
        }
        return try await next(request, context)
    }

    private func rejected(_ context: AppRequestContext) -> Response {
        // Ask the client to close: the rest of its body was not read.
        var response = BodyLimitMiddleware.tooLarge.response(requestID: context.requestID)
        response.headers[.connection] = "close"
        return response
    }
}
