import Foundation
import Hummingbird
import PGClient

/// Outermost middleware: the rest of the request runs on PGClient's reactor thread (`PGExecutor`).
///
/// A handler's database round trips then resume it on the thread that saw the result arrive, instead of waking a
/// thread of Swift's cooperative pool for every round trip: one thread hop into the handler, none per statement.
/// Handlers never block (no blocking libpq call, no file I/O; logs go through a buffered writer), which is what
/// running on an event loop asks of them.
///
/// `TELEBOT_REQUEST_EXECUTOR=global` (benchmarks only) leaves requests on the cooperative pool, for comparison.
struct ReactorExecutorMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext

    func handle(
        _ request: Request, context: AppRequestContext,
        next: (Request, AppRequestContext) async throws -> Response
    ) async throws -> Response {
        try await withTaskExecutorPreference(PGExecutor.shared) { try await next(request, context) }
    }

    /// False only when the benchmark switch asks for the cooperative pool.
    static var isEnabled: Bool {
        ProcessInfo.processInfo.environment["TELEBOT_REQUEST_EXECUTOR"] != "global"
    }
}
