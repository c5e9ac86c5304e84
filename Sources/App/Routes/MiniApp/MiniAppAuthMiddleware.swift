import Hummingbird
import MiniApp

/// `Authorization: Bearer <access_token>` for the Mini App API: signature, expiry and a session that is not
/// revoked (SessionService). Sets `context.principal = .miniAppUser`.
struct MiniAppAuthMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext

    let sessions: SessionService

    func handle(
        _ request: Request, context: AppRequestContext,
        next: (Request, AppRequestContext) async throws -> Response
    ) async throws -> Response {
        guard let header = request.headers[.authorization], header.hasPrefix("Bearer "), header.count > 7 else {
            throw ProblemError.unauthorized("a Mini App access token is required")
        }
        let claims: SessionClaims
        do {
            claims = try await sessions.verify(token: String(header.dropFirst(7)))
        } catch let error as SessionError {
            throw ProblemError.unauthorized(Self.reason(error))
        }
        var context = context
        context.principal = .miniAppUser(.init(userID: claims.userID, telegramID: claims.telegramID))
        context.logger[metadataKey: "user_id"] = "\(claims.userID)"
        return try await next(request, context)
    }

    static func reason(_ error: SessionError) -> String {
        switch error {
        case .expired: "the access token has expired; sign in again"
        case .revoked: "the session was revoked; sign in again"
        default: "the access token is not valid"
        }
    }
}
