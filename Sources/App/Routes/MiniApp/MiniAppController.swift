import Billing
import CoreMetrics
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import MiniApp
import NIOCore
import PGClient
import ServiceLifecycle
import Support
import Telegram

/// The Mini App: `POST /api/v1/miniapp/auth`, the bearer billing API under `/api/v1`, and the page at `/miniapp/`.
struct MiniAppController: AppModule, Sendable {
    let services: MiniAppServices
    let trusted: TrustedProxies
    let assets: MiniAppAssets

    static func addRoutes(to router: AppRouter, config: AppConfig, dependencies: AppDependencies) {
        guard let services = dependencies.miniApp else {
            dependencies.logger.warning("Mini App services are not configured; the Mini App API is off")
            return
        }
        let controller = Self(services: services, trusted: config.trustedProxies, assets: MiniAppAssets())
        router.post("/api/v1/miniapp/auth", use: controller.auth)
        controller.addAPI(to: router.group("/api/v1").add(middleware: MiniAppAuthMiddleware(sessions: services.sessions)))
        // Hummingbird treats "/miniapp" and "/miniapp/" as one path.
        router.get("/miniapp", use: controller.index)
        router.get("/miniapp/{file}", use: controller.file)
    }

    func addAPI(to api: RouterGroup<AppRequestContext>) {
        api.get("/me", use: me)
        api.get("/billing/plans", use: plans)
        api.get("/billing/subscription", use: subscription)
        api.get("/billing/invoices", use: invoices)
        api.post("/billing/checkout", use: checkout)
        api.post("/billing/portal", use: portal)
        api.post("/billing/subscription/cancel") { request, context in
            try await changeRenewal(request, context, renews: false)
        }
        api.post("/billing/subscription/resume") { request, context in
            try await changeRenewal(request, context, renews: true)
        }
    }

    @Sendable func auth(_ request: Request, context: AppRequestContext) async throws -> MiniAppAuthBody {
        var initData: String?
        if let header = request.headers[.authorization], header.hasPrefix("tma ") {
            initData = String(header.dropFirst(4))
        } else if request.headers[.contentType]?.contains("json") == true {
            initData = try await request.decode(as: MiniAppDTO.AuthRequest.self, context: context).initData
        }
        guard let initData, !initData.isEmpty else {
            throw ProblemError.unauthorized("initData is required (Authorization: tma <initData>)", challenge: "tma")
        }
        let result = try await services.auth.exchange(
            initData: initData, userAgent: request.headers[.userAgent].map { String($0.prefix(512)) },
            clientIP: Self.clientIP(request, context, trusted: trusted))
        return MiniAppAuthBody(result)
    }

    @Sendable func me(_ request: Request, context: AppRequestContext) async throws -> MiniAppDTO.Me {
        let principal = try context.requireMiniAppUser()
        return try await services.pool.withConnection { connection in
            guard let user = try await UserStore.find(connection, id: principal.userID) else {
                throw ProblemError.notFound("user not found")
            }
            let entitlements = try await EntitlementStore.active(connection, userID: user.id)
            return MiniAppDTO.Me(
                user: .init(id: user.id, telegramID: user.telegramID, username: user.username, firstName: user.firstName),
                entitlements: entitlements.map(MiniAppDTO.EntitlementBody.init))
        }
    }

    @Sendable func plans(_ request: Request, context: AppRequestContext) async throws -> MiniAppDTO.Plans {
        _ = try context.requireMiniAppUser()
        let plans = try await services.pool.withConnection { try await PlanStore.activePlans($0) }
        let stripeEnabled = services.checkout.stripeEnabled
        return MiniAppDTO.Plans(
            plans: plans.map { plan in
                MiniAppDTO.PlanBody(
                    code: plan.code, name: plan.name, periodDays: plan.periodDays, starsPrice: plan.starsPrice,
                    stripe: plan.stripePriceID != nil && stripeEnabled, recurring: plan.recurring)
            })
    }

    @Sendable func subscription(_ request: Request, context: AppRequestContext) async throws -> MiniAppDTO.Subscription {
        let principal = try context.requireMiniAppUser()
        return try await services.pool.withConnection { connection in
            guard let best = try await EntitlementStore.active(connection, userID: principal.userID).first else {
                return MiniAppDTO.Subscription()
            }
            return try await Self.subscriptionBody(connection, best)
        }
    }

    @Sendable func invoices(_ request: Request, context: AppRequestContext) async throws -> MiniAppDTO.Invoices {
        let principal = try context.requireMiniAppUser()
        let limit = try APIFormat.limit(request.uri.queryParameters["limit"].map(String.init))
        let cursor = try request.uri.queryParameters["cursor"].map { text throws(ProblemError) in
            let position = try KeysetCursor.parameter(text)
            return (createdAt: position.createdAt, id: position.id)
        }
        let (shown, hasMore) = try await services.pool.withConnection { connection in
            try await Self.invoicePage(connection, userID: principal.userID, limit: limit, after: cursor)
        }
        let next = hasMore ? shown.last.map { KeysetCursor(createdAt: $0.createdAt, id: $0.id).encoded } : nil
        return MiniAppDTO.Invoices(invoices: shown.map(MiniAppDTO.InvoiceBody.init), nextCursor: next)
    }

    /// The subscription body of one entitlement, with whether it renews.
    static func subscriptionBody(_ connection: PGConnection, _ entitlement: Entitlement) async throws -> MiniAppDTO.Subscription {
        MiniAppDTO.Subscription(
            plan: entitlement.plan, status: entitlement.effectiveStatus().rawValue,
            expiresAt: APIFormat.timestamp(entitlement.expiresAt) as String, provider: entitlement.source.rawValue,
            renews: try await RenewingSubscriptions.renews(
                connection, userID: entitlement.userID, plan: entitlement.plan, source: entitlement.source))
    }

    /// `POST /billing/subscription/cancel` and `/resume`: the user's own recurring subscription to `plan` stops (or
    /// resumes) renewing at the end of the paid period; 200 with the plan's subscription body afterwards.
    func changeRenewal(_ request: Request, _ context: AppRequestContext, renews: Bool) async throws
        -> MiniAppDTO.Subscription
    {
        let principal = try context.requireMiniAppUser()
        let body = try await request.decode(as: MiniAppDTO.SubscriptionChangeRequest.self, context: context)
        guard let plan = body.plan, !plan.isEmpty else { throw ProblemError.badRequest("plan is required") }
        try await services.renewals.setRenewal(userID: principal.userID, plan: plan, renews: renews)
        context.logger.info("subscription renewal changed", metadata: ["plan": "\(plan)", "renews": "\(renews)"])
        return try await services.pool.withConnection { connection in
            guard let entitlement = try await EntitlementStore.find(connection, userID: principal.userID, plan: plan)
            else { return MiniAppDTO.Subscription() }
            return try await Self.subscriptionBody(connection, entitlement)
        }
    }

    /// One page and whether more follow. `InvoiceStore.page` returns at most 100 rows, so the usual "ask for one
    /// more" probe cannot work for `limit=100`: there a second one-row query after the page's last row decides.
    static func invoicePage(
        _ connection: PGConnection, userID: Int64, limit: Int, after cursor: (createdAt: Date, id: Int64)?
    ) async throws -> (invoices: [Invoice], hasMore: Bool) {
        let maximum = 100
        if limit < maximum {
            let page = try await InvoiceStore.page(connection, userID: userID, limit: limit + 1, after: cursor)
            return (Array(page.prefix(limit)), page.count > limit)
        }
        let page = try await InvoiceStore.page(connection, userID: userID, limit: maximum, after: cursor)
        guard page.count == maximum, let last = page.last else { return (page, false) }
        let more = try await InvoiceStore.page(connection, userID: userID, limit: 1, after: (last.createdAt, last.id))
        return (page, !more.isEmpty)
    }

    @Sendable func checkout(_ request: Request, context: AppRequestContext) async throws -> MiniAppDTO.CheckoutBody {
        let principal = try context.requireMiniAppUser()
        let body = try await request.decode(as: MiniAppDTO.CheckoutRequest.self, context: context)
        guard let plan = body.plan, !plan.isEmpty else { throw ProblemError.badRequest("plan is required") }
        guard let providerName = body.provider, let provider = PaymentProvider(rawValue: providerName) else {
            throw ProblemError.badRequest("provider must be stripe or telegram_stars")
        }
        let key = RequestHeader.idempotencyKey.value(in: request.headers)
        let (result, replayed) = try await services.checkout.service.checkout(
            userID: principal.userID, telegramID: principal.telegramID, plan: plan, provider: provider,
            idempotencyKey: key)
        if !replayed { services.metrics.checkoutStarted(plan: plan) }
        context.logger.info(
            "checkout started",
            metadata: ["plan": "\(plan)", "provider": "\(provider.rawValue)", "replayed": "\(replayed)"])
        return MiniAppDTO.CheckoutBody(provider: result.provider, url: result.url)
    }

    @Sendable func portal(_ request: Request, context: AppRequestContext) async throws -> MiniAppDTO.PortalBody {
        let principal = try context.requireMiniAppUser()
        let url = try await services.checkout.service.portalURL(userID: principal.userID)
        services.metrics.portalOpened()
        return MiniAppDTO.PortalBody(url: url)
    }

    @Sendable func index(_ request: Request, context: AppRequestContext) throws -> Response {
        try page("")
    }

    @Sendable func file(_ request: Request, context: AppRequestContext) throws -> Response {
        try page(context.parameters.get("file") ?? "")
    }

    func page(_ name: String) throws -> Response {
        guard let asset = assets.asset(path: name) else { throw ProblemError.notFound() }
        return Response(
            status: .ok, headers: [.contentType: asset.contentType, .cacheControl: "no-cache"],
            body: .init(byteBuffer: ByteBuffer(bytes: asset.body)))
    }

    /// The client address for per-IP rate limiting: the TCP peer, unless the peer is one of `TRUSTED_PROXIES`; then
    /// the right-most `X-Forwarded-For` hop that is not itself a trusted proxy (earlier hops are whatever the client
    /// wrote, so keying on them would let anyone dodge the limit, or drain another address's bucket). nil when the
    /// peer is unknown (the per-user limit still applies).
    static func clientIP(_ request: Request, _ context: AppRequestContext, trusted: TrustedProxies) -> String? {
        trusted.clientAddress(
            peer: context.remoteAddress?.ipAddress, forwardedFor: request.headers[values: .xForwardedFor])
    }
}

/// `{"access_token","token_type","expires_in","user":{...}}`.
struct MiniAppAuthBody: ResponseEncodable, Sendable {
    var accessToken: String
    var tokenType: String
    var expiresIn: Int
    var user: MiniAppDTO.UserBody

    enum CodingKeys: String, CodingKey {
        case user
        case accessToken = "access_token"
        case tokenType = "token_type"
        case expiresIn = "expires_in"
    }

    init(_ result: MiniAppAuthResult) {
        accessToken = result.accessToken
        tokenType = result.tokenType
        expiresIn = result.expiresIn
        user = .init(
            id: result.user.id, telegramID: result.user.telegramID, username: result.user.username,
            firstName: result.user.firstName)
    }
}
