import Foundation
import Hummingbird
import Logging
import NIOCore

/// Per-request state shared by middleware and routes: the request id (set by `RequestIDMiddleware`) and who is
/// calling (set by the bearer middlewares of the Mini App and admin APIs).
struct AppRequestContext: RequestContext, RemoteAddressRequestContext {
    var coreContext: CoreRequestContextStorage
    /// The TCP peer (nil in in-process tests).
    let remoteAddress: SocketAddress?
    /// `X-Request-Id` of this request, echoed or generated; "" only before `RequestIDMiddleware` ran.
    var requestID: String
    /// The authenticated caller; nil until a bearer middleware accepts a token.
    var principal: Principal?

    init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.remoteAddress = source.channel.remoteAddress
        self.requestID = ""
        self.principal = nil
    }

    /// Bodies are collected up to this size by `BodyLimitMiddleware`; `request.decode` honours it too.
    var maxUploadSize: Int { HTTPLimits.maxBodyBytes }

    /// The Mini App user making the request, or 401 when the request carries no valid Mini App token.
    func requireMiniAppUser() throws(ProblemError) -> Principal.MiniAppUser {
        guard case .miniAppUser(let user)? = principal else {
            throw ProblemError.unauthorized("a valid Mini App access token is required", challenge: "Bearer")
        }
        return user
    }
}

/// Who is calling, as established by a bearer middleware.
enum Principal: Sendable, Equatable {
    /// A Telegram user signed in through the Mini App (JWT `sub` and `tg`).
    case miniAppUser(MiniAppUser)
    /// The operator, with `ADMIN_TOKEN`.
    case admin

    struct MiniAppUser: Sendable, Equatable {
        /// `users.id` (the JWT `sub`).
        var userID: Int64
        /// Telegram user id (the JWT `tg`).
        var telegramID: Int64
    }
}

/// Fixed limits of the HTTP layer.
enum HTTPLimits {
    /// Request bodies larger than this get 413 (docs/api.md: bodies over 1 MiB get 413).
    static let maxBodyBytes = 1 << 20
}
