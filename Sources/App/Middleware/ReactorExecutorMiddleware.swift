import Foundation
import Hummingbird
import PGClient

/// Outermost middleware, when enabled: the rest of the request runs on PGClient's reactor thread (`PGExecutor`).
///
/// A handler's database round trips then resume it on the thread that saw the result arrive, instead of waking a
/// thread of Swift's cooperative pool for every round trip: one thread hop into the handler, none per statement.
/// Handlers never block (no blocking libpq call, no file I/O; logs go through a buffered writer), which is what
/// running on an event loop asks of them.
///
/// Off by default (benchmarks only: `TELEBOT_REQUEST_EXECUTOR=reactor`). Measured on the 2-core machine
/// (docs/performance.md), one reactor thread running every handler is the bottleneck at 32 concurrent webhooks: the
/// machine stays 10 % idle, p99 is 142–156 ms against 95–111 ms on the cooperative pool, and the CPU per event is
/// no lower within the noise. Several reactors, each running the handlers of its own connections, would keep the
/// saving without the single-thread queue.
struct ReactorExecutorMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext

    func handle(
        _ request: Request, context: AppRequestContext,
        next: (Request, AppRequestContext) async throws -> Response
    ) async throws -> Response {
        try await withTaskExecutorPreference(PGExecutor.shared) { try await next(request, context) }
    }

    /// True only when the benchmark switch asks for the reactor (`TELEBOT_REQUEST_EXECUTOR=reactor`).
    static var isEnabled: Bool {
        ProcessInfo.processInfo.environment["TELEBOT_REQUEST_EXECUTOR"] == "reactor"
    }
}
