import Billing
import Foundation
import Hummingbird
import PGClient

/// The operators' customer view, behind `ADMIN_TOKEN` (absent when it is unset):
/// - `GET /admin/v1/users/{telegram_id}?limit=`: user, entitlements, grants (with the payment behind each),
///   invoices, payment events, audit changes, Stars and Stripe subscriptions; each list newest first, at most
///   `limit` (1–100, default 50) long. 404 for an unknown Telegram id.
/// - `GET /admin/v1/users?query=&limit=`: customers by Telegram id, user id, or username prefix (`@` optional).
struct AdminUserController: AppModule, Sendable {
    let pool: PGPool

    static func addRoutes(to router: AppRouter, config: AppConfig, dependencies: AppDependencies) {
        guard let token = config.adminToken else { return }
        Self(pool: dependencies.pool).addRoutes(
            to: router.group("/admin/v1/users").add(middleware: AdminAuthMiddleware(token: token)))
    }

    func addRoutes(to admin: RouterGroup<AppRequestContext>) {
        admin.get(use: search)
        admin.get("/:telegram_id", use: record)
    }

    @Sendable func search(_ request: Request, context: AppRequestContext) async throws -> AdminUserDTO.Search {
        guard let raw = request.uri.queryParameters["query"] else {
            throw ProblemError.badRequest("query is required: a Telegram id, a user id or a username")
        }
        let query = raw.trimmingCharacters(in: .whitespaces)
        guard (1...64).contains(query.count), query != "@" else {
            throw ProblemError.badRequest("query must be 1 to 64 characters")
        }
        let limit = try APIFormat.limit(request.uri.queryParameters["limit"].map(String.init))
        let users = try await pool.withConnection { connection in
            try await CustomerLookupStore.search(connection, query: query, limit: limit)
        }
        return AdminUserDTO.Search(users: users.map(AdminUserDTO.User.init))
    }

    @Sendable func record(_ request: Request, context: AppRequestContext) async throws -> AdminUserDTO.Record {
        guard let text = context.parameters.get("telegram_id"), let telegramID = Int64(text), telegramID > 0 else {
            throw ProblemError.notFound("no such user")
        }
        let limit = try APIFormat.limit(request.uri.queryParameters["limit"].map(String.init), default: 50)
        let record = try await pool.transaction(isolation: .repeatableRead) { tx -> CustomerRecord? in
            // One snapshot for every section, so they agree with each other.
            guard let user = try await CustomerLookupStore.user(tx, telegramID: telegramID) else { return nil }
            return try await CustomerLookupStore.record(tx, user: user, limit: limit)
        }
        guard let record else { throw AdminProblem.unknownUser }
        return AdminUserDTO.Record(record, limit: limit)
    }
}
