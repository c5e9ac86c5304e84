import HTTPTypes
import Hummingbird
import NIOCore

/// Refuses bodies over the route's limit with 413: at once when `Content-Length` says so, otherwise while
/// collecting a streamed (chunked) body. Routes then find the whole body collected in `request.body`, so reading
/// it twice (signature check, then decode) is free.
///
/// Limits (`limit(for:)`): 16 KiB for the Mini App sign-in and the click routes (small JSON, reachable by anyone
/// with a browser), 1 MiB (`HTTPLimits.maxBodyBytes`) for everything else, webhooks included.
struct BodyLimitMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    /// The largest body any route takes; nil: the per-route limits of `limit(for:)`.
    let maxBytes: Int?

    init(maxBytes: Int? = nil) {
        self.maxBytes = maxBytes
    }

    /// Limit of the small JSON routes.
    static let smallBodyBytes = 16 << 10

    /// The body limit of the route at `path`, before routing (the path, not the template, decides).
    static func limit(for path: String) -> Int {
        if path == "/api/v1/miniapp/auth" || path == "/api/v1/marketing/clicks" || path.hasPrefix("/api/v1/marketing/clicks/") {
            return smallBodyBytes
        }
        return HTTPLimits.maxBodyBytes
    }

    static func tooLarge(limit: Int) -> ProblemError {
        let readable = limit % (1 << 20) == 0 ? "\(limit >> 20) MiB" : "\(limit >> 10) KiB"
        return ProblemError(.contentTooLarge, detail: "the request body is larger than \(limit) bytes (\(readable))")
    }

    func handle(
        _ request: Request, context: AppRequestContext,
        next: (Request, AppRequestContext) async throws -> Response
    ) async throws -> Response {
        let limit = maxBytes ?? Self.limit(for: request.uri.path)
        if let length = request.headers[.contentLength], let bytes = Int(length), bytes > limit {
            return rejected(context, limit: limit)
        }
        var request = request
        do {
            _ = try await request.collectBody(upTo: limit)
        } catch is NIOTooManyBytesError {
            return rejected(context, limit: limit)
        }
        return try await next(request, context)
    }

    private func rejected(_ context: AppRequestContext, limit: Int) -> Response {
        // Ask the client to close: the rest of its body was not read.
        var response = BodyLimitMiddleware.tooLarge(limit: limit).response(requestID: context.requestID)
        response.headers[.connection] = "close"
        return response
    }
}
