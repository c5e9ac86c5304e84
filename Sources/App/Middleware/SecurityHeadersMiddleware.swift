import HTTPTypes
import Hummingbird

/// Outermost middleware: headers every answer carries, errors included.
///
/// - `X-Content-Type-Options: nosniff` on every answer.
/// - `Cache-Control: no-store` on every answer under `/api/` and `/admin/` (they are per-user or operator data).
/// - `Content-Security-Policy` on the Mini App page and its files (`/miniapp…`): scripts only from the server and
///   `https://telegram.org` (Telegram's `telegram-web-app.js`), styles, fetches and images only from the server, no
///   inline code, and framing only by the server itself and Telegram's web clients. `/openapi.yaml` gets a policy
///   that allows nothing (it is a document, never a page).
struct SecurityHeadersMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext

    static let miniAppPolicy = [
        "default-src 'self'",
        "script-src 'self' https://telegram.org",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'self' https://web.telegram.org https://*.telegram.org",
    ].joined(separator: "; ")

    static let documentPolicy = "default-src 'none'; frame-ancestors 'none'; sandbox"

    func handle(
        _ request: Request, context: AppRequestContext,
        next: (Request, AppRequestContext) async throws -> Response
    ) async throws -> Response {
        var response = try await next(request, context)
        response.headers[.xContentTypeOptions] = "nosniff"
        let path = request.uri.path
        if path.hasPrefix("/api/") || path.hasPrefix("/admin/") {
            response.headers[.cacheControl] = "no-store"
        } else if path == "/miniapp" || path.hasPrefix("/miniapp/") {
            response.headers[.contentSecurityPolicy] = Self.miniAppPolicy
        } else if path == "/openapi.yaml" {
            response.headers[.contentSecurityPolicy] = Self.documentPolicy
        }
        return response
    }
}
