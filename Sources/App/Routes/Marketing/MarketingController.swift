import Billing
import Foundation
import Hummingbird
import Marketing
import ServiceLifecycle
import Support
import Telegram

/// Mini App click API (`/api/v1/marketing/clicks`, bearer), scheduler pause/resume (`/admin/v1`), and the promo
/// scheduler service when `MARKETING_CHANNEL_ID` is set.
struct MarketingController: AppModule, Sendable {
    struct NewClickBody: Decodable, Sendable {
        var ctaType: String?
        var channel: String?
        var utmSource: String?
        var utmCampaign: String?
        var metadata: [String: JSONValue]?

        enum CodingKeys: String, CodingKey {
            case channel, metadata
            case ctaType = "cta_type"
            case utmSource = "utm_source"
            case utmCampaign = "utm_campaign"
        }
    }

    struct PatchBody: Decodable, Sendable {
        var metadata: [String: JSONValue]?
    }

    struct Created: ResponseEncodable, Sendable {
        var id: Int64
    }

    let clicks: ClickService
    let scheduler: SchedulerControl

    static func addRoutes(to router: AppRouter, config: AppConfig, dependencies: AppDependencies) {
        let marketingMetrics = dependencies.clients(config).marketingMetrics
        let controller = Self(
            clicks: ClickService(pool: dependencies.pool, writer: dependencies.clickWriter, metrics: marketingMetrics),
            scheduler: SchedulerControl(pool: dependencies.pool))
        if let miniApp = dependencies.miniApp {
            controller.addClickRoutes(
                to: router.group("/api/v1/marketing/clicks").add(middleware: MiniAppAuthMiddleware(sessions: miniApp.sessions)))
        }
        if let token = config.adminToken {
            controller.addSchedulerRoutes(
                to: router.group("/admin/v1/marketing/scheduler").add(middleware: AdminAuthMiddleware(token: token)))
        }
    }

    func addClickRoutes(to api: RouterGroup<AppRequestContext>) {
        api.post(use: createClick)
        api.get(use: listClicks)
        api.get("/{id}", use: getClick)
        api.patch("/{id}", use: patchClick)
    }

    func addSchedulerRoutes(to admin: RouterGroup<AppRequestContext>) {
        admin.post("/pause", use: pauseScheduler)
        admin.post("/resume", use: resumeScheduler)
    }

    @Sendable func createClick(_ request: Request, context: AppRequestContext) async throws -> EditedResponse<Created> {
        let user = try context.requireMiniAppUser()
        let body = try await request.decode(as: NewClickBody.self, context: context)
        guard let ctaType = body.ctaType else { throw ProblemError.badRequest("cta_type is required") }
        let id = try await clicks.create(
            userID: user.userID,
            click: NewClick(
                ctaType: ctaType, channel: body.channel, utmSource: body.utmSource, utmCampaign: body.utmCampaign,
                metadata: body.metadata ?? [:]))
        return EditedResponse(status: .created, response: Created(id: id))
    }

    @Sendable func listClicks(_ request: Request, context: AppRequestContext) async throws -> ClickPageBody {
        let user = try context.requireMiniAppUser()
        let limit = try request.uri.queryParameters["limit"].map { text throws(ProblemError) -> Int in
            guard let value = Int(text) else { throw ProblemError.badRequest("limit must be a whole number from 1 to 100") }
            return value
        }
        return ClickPageBody(
            try await clicks.list(
                userID: user.userID, limit: limit, cursor: request.uri.queryParameters["cursor"].map(String.init)))
    }

    @Sendable func getClick(_ request: Request, context: AppRequestContext) async throws -> ClickBody {
        let user = try context.requireMiniAppUser()
        return ClickBody(try await clicks.get(userID: user.userID, id: try Self.clickID(context)))
    }

    @Sendable func patchClick(_ request: Request, context: AppRequestContext) async throws -> ClickBody {
        let user = try context.requireMiniAppUser()
        let body = try await request.decode(as: PatchBody.self, context: context)
        guard let metadata = body.metadata else { throw ProblemError.badRequest("metadata is required") }
        return ClickBody(try await clicks.patchMetadata(userID: user.userID, id: try Self.clickID(context), patch: metadata))
    }

    @Sendable func pauseScheduler(_ request: Request, context: AppRequestContext) async throws -> SchedulerStatusBody {
        let status = try await scheduler.pause(by: "admin")
        context.logger.notice("admin paused the promo scheduler", metadata: ["action": "scheduler.pause"])
        return SchedulerStatusBody(status)
    }

    @Sendable func resumeScheduler(_ request: Request, context: AppRequestContext) async throws -> SchedulerStatusBody {
        let status = try await scheduler.resume(by: "admin")
        context.logger.notice("admin resumed the promo scheduler", metadata: ["action": "scheduler.resume"])
        return SchedulerStatusBody(status)
    }

    static func services(config: AppConfig, dependencies: AppDependencies) -> [any Service] {
        guard let channel = config.marketingChannelID else { return [] }
        let bot = dependencies.clients(config).bot
        let scheduler = PromoScheduler(
            configuration: PromoSchedulerConfiguration(chatID: channel, interval: config.marketingPostInterval),
            pool: dependencies.pool, publisher: BotAPIPromoPublisher(client: bot),
            metrics: dependencies.clients(config).marketingMetrics,
            logger: dependencies.logger)
        return [scheduler]
    }

    static func clickID(_ context: AppRequestContext) throws(ProblemError) -> Int64 {
        guard let text = context.parameters.get("id"), let id = Int64(text), id > 0 else {
            throw ProblemError.notFound("no such click")
        }
        return id
    }
}

struct ClickBody: ResponseEncodable, Sendable {
    let click: Click
    init(_ click: Click) { self.click = click }
    func encode(to encoder: any Encoder) throws { try click.encode(to: encoder) }
}

struct ClickPageBody: ResponseEncodable, Sendable {
    let page: ClickPage
    init(_ page: ClickPage) { self.page = page }
    func encode(to encoder: any Encoder) throws { try page.encode(to: encoder) }
}

struct SchedulerStatusBody: ResponseEncodable, Sendable {
    let status: SchedulerStatus
    init(_ status: SchedulerStatus) { self.status = status }
    func encode(to encoder: any Encoder) throws { try status.encode(to: encoder) }
}

extension ClickError: ProblemConvertible {
    var problem: ProblemError {
        switch self {
        case .notFound: .notFound("no such click")
        default: .badRequest(description)
        }
    }
}
