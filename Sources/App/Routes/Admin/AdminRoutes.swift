import Billing
import Foundation
import Hummingbird
import Logging
import PGClient

/// `/admin/v1`: operator actions behind `ADMIN_TOKEN` (the whole API is absent when it is unset). Every action
/// is logged with what it did and to whom, never with the token.
enum AdminRoutes: AppModule {
    static func addRoutes(to router: AppRouter, config: AppConfig, dependencies: AppDependencies) {
        guard let token = config.adminToken else { return }
        let admin = router.group("/admin/v1").add(middleware: AdminAuthMiddleware(token: token))
        let pool = dependencies.pool
        admin.post("/entitlements") { request, context in
            let body = try await request.decode(as: AdminEntitlementRequest.self, context: context)
            let days = try body.validDays()
            let plan = try body.validPlan()
            let key = try AdminGrantKey.from(request.headers[AdminGrantKey.header])
            let grant = try await pool.transaction { tx -> AdminEntitlementResponse in
                let userID = try await body.resolveUser(tx, create: true)
                guard try await PlanStore.plan(tx, code: plan) != nil else { throw AdminProblem.unknownPlan(plan) }
                let state = try await GrantStore.grant(
                    tx,
                    NewGrant(
                        userID: userID, plan: plan, source: .admin, paymentKey: key,
                        kind: .duration(seconds: Int64(days) * 86_400), purchasedAt: Date()),
                    cause: ChangeCause(actor: .admin, reason: body.reason ?? "admin grant of \(days) days"))
                if let state {
                    return AdminEntitlementResponse(
                        userID: userID, plan: plan, status: state.status.rawValue,
                        expiresAt: APIFormat.timestamp(state.expiresAt) as String, changed: true)
                }
                // The same Idempotency-Key again: the grant it made, unchanged.
                try await AdminGrantKey.verifySameGrant(tx, key: key, userID: userID, plan: plan, days: days)
                guard let current = try await EntitlementStore.find(tx, userID: userID, plan: plan) else {
                    throw AdminProblem.noEntitlement
                }
                return AdminEntitlementResponse(
                    userID: userID, plan: plan, status: current.status.rawValue,
                    expiresAt: APIFormat.timestamp(current.expiresAt) as String, changed: false)
            }
            context.logger.notice(
                "admin granted entitlement",
                metadata: [
                    "action": "grant", "user_id": "\(grant.userID)", "plan": "\(plan)", "days": "\(days)",
                    "changed": "\(grant.changed)",
                ])
            return grant
        }
        admin.delete("/entitlements") { request, context in
            let body = try await request.decode(as: AdminEntitlementRequest.self, context: context)
            let plan = try body.validPlan()
            let result = try await pool.transaction { tx -> AdminEntitlementResponse in
                let userID = try await body.resolveUser(tx, create: false)
                let change = try await GrantStore.revokeAll(
                    tx, userID: userID, plan: plan,
                    cause: ChangeCause(actor: .admin, reason: body.reason ?? "admin revoke"))
                let current = try await EntitlementStore.find(tx, userID: userID, plan: plan)
                guard let current else { throw AdminProblem.noEntitlement }
                return AdminEntitlementResponse(
                    userID: userID, plan: plan, status: current.status.rawValue,
                    expiresAt: APIFormat.timestamp(current.expiresAt) as String, changed: change != nil)
            }
            context.logger.notice(
                "admin revoked entitlement",
                metadata: ["action": "revoke", "user_id": "\(result.userID)", "plan": "\(plan)", "changed": "\(result.changed)"])
            return result
        }
        admin.get("/payment-events") { request, _ in
            try await AdminPaymentEventPage.handle(request, pool: pool)
        }
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

    /// The target user: by `user_id`, or by `telegram_id` (created when `create`, as a grant may precede the
    /// user's first message).
    func resolveUser(_ connection: PGConnection, create: Bool) async throws -> Int64 {
        switch (userID, telegramID) {
        case (let id?, nil):
            guard try await UserStore.find(connection, id: id) != nil else { throw AdminProblem.unknownUser }
            return id
        case (nil, let telegramID?):
            guard telegramID > 0 else { throw ProblemError.badRequest("telegram_id must be positive") }
            if create { return try await UserStore.ensure(connection, telegramID: telegramID) }
            guard let user = try await UserStore.find(connection, telegramID: telegramID) else { throw AdminProblem.unknownUser }
            return user.id
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
}
