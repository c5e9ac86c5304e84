import Billing
import Foundation
import Hummingbird
import Logging
import PGClient

/// `/admin/v1`: operator actions behind `ADMIN_TOKEN` (the whole API is absent when it is unset). Every action
/// is logged with what it did and to whom, never with the token.
struct AdminEntitlementController: AppModule, Sendable {
    let pool: PGPool
    let entitlements: AdminEntitlements

    static func addRoutes(to router: AppRouter, config: AppConfig, dependencies: AppDependencies) {
        guard let token = config.adminToken else { return }
        Self(pool: dependencies.pool, entitlements: AdminEntitlements(pool: dependencies.pool)).addRoutes(
            to: router.group("/admin/v1").add(middleware: AdminAuthMiddleware(token: token)))
    }

    func addRoutes(to admin: RouterGroup<AppRequestContext>) {
        admin.post("/entitlements", use: grant)
        admin.delete("/entitlements", use: revoke)
        admin.get("/payment-events", use: paymentEvents)
    }

    @Sendable func grant(_ request: Request, context: AppRequestContext) async throws -> AdminEntitlementResponse {
        let body = try await request.decode(as: AdminEntitlementRequest.self, context: context)
        let days = try body.validDays()
        let plan = try body.validPlan()
        let key = try AdminGrantKey.from(AdminGrantKey.header.value(in: request.headers))
        let target = try body.target()
        let outcome = try await AdminProblem.mapping {
            try await entitlements.grant(target, plan: plan, days: days, paymentKey: key, reason: body.reason)
        }
        let grant = AdminEntitlementResponse(outcome, plan: plan)
        context.logger.notice(
            "admin granted entitlement",
            metadata: [
                "action": "grant", "user_id": "\(grant.userID)", "plan": "\(plan)", "days": "\(days)",
                "changed": "\(grant.changed)",
            ])
        return grant
    }

    @Sendable func revoke(_ request: Request, context: AppRequestContext) async throws -> AdminEntitlementResponse {
        let body = try await request.decode(as: AdminEntitlementRequest.self, context: context)
        let plan = try body.validPlan()
        let target = try body.target()
        let outcome = try await AdminProblem.mapping {
            try await entitlements.revoke(target, plan: plan, reason: body.reason)
        }
        let result = AdminEntitlementResponse(outcome, plan: plan)
        context.logger.notice(
            "admin revoked entitlement",
            metadata: ["action": "revoke", "user_id": "\(result.userID)", "plan": "\(plan)", "changed": "\(result.changed)"])
        return result
    }

    @Sendable func paymentEvents(_ request: Request, context: AppRequestContext) async throws -> PaymentEventList {
        try await AdminPaymentEventPage.handle(request, pool: pool)
    }
}

/// Body of `POST` and `DELETE /admin/v1/entitlements`.
struct AdminEntitlementRequest: Decodable, Sendable {
    var telegramID: Int64?
    var userID: Int64?
    var plan: String?
    var days: Int?
    var reason: String?

    enum CodingKeys: String, CodingKey {
        case telegramID = "telegram_id"
        case userID = "user_id"
        case plan, days, reason
    }

    func validPlan() throws(ProblemError) -> String {
        guard let plan, !plan.isEmpty, plan.count <= 64 else { throw ProblemError.badRequest("plan is required") }
        return plan
    }

    func validDays() throws(ProblemError) -> Int {
        guard let days, (1...3650).contains(days) else {
            throw ProblemError.badRequest("days must be a whole number from 1 to 3650")
        }
        return days
    }

    /// The target user: by `user_id`, or by `telegram_id` (a grant creates the user, as it may precede the user's
    /// first message).
    func target() throws(ProblemError) -> AdminEntitlements.Target {
        switch (userID, telegramID) {
        case (let id?, nil):
            return .user(id)
        case (nil, let telegramID?):
            guard telegramID > 0 else { throw ProblemError.badRequest("telegram_id must be positive") }
            return .telegram(telegramID)
        default:
            throw ProblemError.badRequest("give exactly one of telegram_id or user_id")
        }
    }
}

struct AdminEntitlementResponse: ResponseEncodable, Sendable {
    var userID: Int64
    var plan: String
    var status: String
    var expiresAt: String?
    var changed: Bool

    enum CodingKeys: String, CodingKey {
        case userID = "user_id"
        case plan, status, changed
        case expiresAt = "expires_at"
    }
}

extension AdminEntitlementResponse {
    init(_ outcome: AdminEntitlements.Outcome, plan: String) {
        self.init(
            userID: outcome.userID, plan: plan, status: outcome.status.rawValue,
            expiresAt: APIFormat.timestamp(outcome.expiresAt) as String, changed: outcome.changed)
    }
}

struct PaymentEventList: ResponseEncodable, Sendable {
    struct Item: Encodable, Sendable {
        var id: Int64
        var provider: String
        var eventID: String
        var eventType: String
        var status: String
        var attempts: Int
        var error: String?
        var receivedAt: String

        enum CodingKeys: String, CodingKey {
            case id, provider, status, attempts, error
            case eventID = "event_id"
            case eventType = "event_type"
            case receivedAt = "received_at"
        }

        init(_ event: PaymentEvent) {
            id = event.id
            provider = event.provider.rawValue
            eventID = event.eventID
            eventType = event.eventType
            status = event.status.rawValue
            attempts = event.attempts
            error = event.lastError
            receivedAt = APIFormat.timestamp(event.receivedAt)
        }

        /// Every key, `"error": null` included: clients rely on the key being there.
        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(id, forKey: .id)
            try container.encode(provider, forKey: .provider)
            try container.encode(eventID, forKey: .eventID)
            try container.encode(eventType, forKey: .eventType)
            try container.encode(status, forKey: .status)
            try container.encode(attempts, forKey: .attempts)
            try container.encode(error, forKey: .error)
            try container.encode(receivedAt, forKey: .receivedAt)
        }
    }

    var events: [Item]
    /// Keyset position of the next page; null on the last one (the key is always present).
    var nextCursor: String?

    enum CodingKeys: String, CodingKey {
        case events
        case nextCursor = "next_cursor"
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(events, forKey: .events)
        try container.encode(nextCursor, forKey: .nextCursor)
    }
}

/// Admin-specific problems.
enum AdminProblem: Error, ProblemConvertible {
    case unknownUser
    case unknownPlan(String)
    case noEntitlement

    var problem: ProblemError {
        switch self {
        case .unknownUser: .notFound("no such user")
        case .unknownPlan(let plan): .unprocessable("plan \(plan) does not exist")
        case .noEntitlement: .notFound("the user has no entitlement to this plan")
        }
    }

    /// Runs `body`, answering `AdminEntitlements.Failure` as the problems it stands for.
    static func mapping<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let failure as AdminEntitlements.Failure {
            switch failure {
            case .unknownUser: throw AdminProblem.unknownUser
            case .unknownPlan(let plan): throw AdminProblem.unknownPlan(plan)
            case .noEntitlement: throw AdminProblem.noEntitlement
            case .keyReused: throw ProblemError.unprocessable("this Idempotency-Key was used for another grant")
            }
        }
    }
}
