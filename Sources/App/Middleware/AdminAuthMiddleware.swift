import Crypto
import Foundation
import Hummingbird

/// `Authorization: Bearer <ADMIN_TOKEN>` for `/admin/v1`, compared in constant time (HMACs of both sides, so
/// neither length nor content leaks through timing). Sets `context.principal = .admin`.
///
/// On a route group it guards that group. With `pathPrefix` it is a router-wide gate for every path under the
/// prefix, matched or not, so a request without the token learns nothing about which methods a path has: it is
/// 401, never 404/405.
struct AdminAuthMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext

    private let key = SymmetricKey(size: .bits256)
    private let expectedMAC: Data
    private let pathPrefix: String?

    init(token: String, pathPrefix: String? = nil) {
        self.expectedMAC = Data(HMAC<SHA256>.authenticationCode(for: Data(token.utf8), using: key))
        self.pathPrefix = pathPrefix
    }

    func handle(
        _ request: Request, context: AppRequestContext,
        next: (Request, AppRequestContext) async throws -> Response
    ) async throws -> Response {
        if let pathPrefix {
            let path = request.uri.path
            guard path == pathPrefix || path.hasPrefix(pathPrefix + "/") else { return try await next(request, context) }
        }
        if context.principal == .admin { return try await next(request, context) }
        guard let header = request.headers[.authorization], header.hasPrefix("Bearer ") else {
            throw ProblemError.unauthorized("the admin token is required")
        }
        guard HMAC<SHA256>.isValidAuthenticationCode(expectedMAC, authenticating: Data(header.dropFirst(7).utf8), using: key)
        else {
            throw ProblemError.unauthorized("the admin token is not valid")
        }
        var context = context
        context.principal = .admin
        return try await next(request, context)
    }
}
