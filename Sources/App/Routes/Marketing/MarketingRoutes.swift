import Billing
import Foundation
import Hummingbird
import Marketing
import ServiceLifecycle
import Support
import Telegram

/// Mini App click API (`/api/v1/marketing/clicks`, bearer), scheduler pause/resume (`/admin/v1`), and the promo
/// scheduler service when `MARKETING_CHANNEL_ID` is set.
enum MarketingRoutes: AppModule {
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

    static func addRoutes(to router: AppRouter, config: AppConfig, dependencies: AppDependencies) {
        let marketingMetrics = MarketingMetrics(factory: dependencies.metrics.factory, ctaTypes: config.marketingCTATypes)
        if let miniApp = dependencies.miniApp {
            let clicks = ClickService(pool: dependencies.pool, writer: dependencies.clickWriter, metrics: marketingMetrics)
            let api = router.group("/api/v1/marketing/clicks").add(middleware: MiniAppAuthMiddleware(sessions: miniApp.sessions))
            api.post { request, context in
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
            api.get { request, context in
                let user = try context.requireMiniAppUser()
                let limit = try request.uri.queryParameters["limit"].map { text throws(ProblemError) -> Int in
                    guard let value = Int(text) else { throw ProblemError.badRequest("limit must be a whole number from 1 to 100") }
                    return value
                }
                return ClickPageBody(
                    try await clicks.list(
                        userID: user.userID, limit: limit, cursor: request.uri.queryParameters["cursor"].map(String.init)))
            }
            api.get("/{id}") { _, context in
                let user = try context.requireMiniAppUser()
                return ClickBody(try await clicks.get(userID: user.userID, id: try clickID(context)))
            }
            api.patch("/{id}") { request, context in
                let user = try context.requireMiniAppUser()
                let body = try await request.decode(as: PatchBody.self, context: context)
                guard let metadata = body.metadata else { throw ProblemError.badRequest("metadata is required") }
                return ClickBody(try await clicks.patchMetadata(userID: user.userID, id: try clickID(context), patch: metadata))
            }
        }
        if let token = config.adminToken {
            let control = SchedulerControl(pool: dependencies.pool)
            let admin = router.group("/admin/v1/marketing/scheduler").add(middleware: AdminAuthMiddleware(token: token))
            admin.post("/pause") { _, context in
                let status = try await control.pause(by: "admin")
                context.logger.notice("admin paused the promo scheduler", metadata: ["action": "scheduler.pause"])
                return SchedulerStatusBody(status)
            }
            admin.post("/resume") { _, context in
                let status = try await control.resume(by: "admin")
                context.logger.notice("admin resumed the promo scheduler", metadata: ["action": "scheduler.resume"])
                return SchedulerStatusBody(status)
            }
        }
    }

    static func services(config: AppConfig, dependencies: AppDependencies) -> [any Service] {
        guard let channel = config.marketingChannelID else { return [] }
        let bot = dependencies.clients(config).bot
        let scheduler = PromoScheduler(
            configuration: PromoSchedulerConfiguration(chatID: channel, interval: config.marketingPostInterval),
            pool: dependencies.pool, publisher: BotAPIPromoPublisher(client: bot),
            metrics: MarketingMetrics(factory: dependencies.metrics.factory, ctaTypes: config.marketingCTATypes),
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
