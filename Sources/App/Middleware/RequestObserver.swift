import Hummingbird

/// A middleware that only watches: it passes the request on and, once the response (or an error the inner
/// middleware did not map) is known, reports the status and the start time to `observe`.
protocol RequestObserver: RouterMiddleware where Context == AppRequestContext {
    /// Called once per request, after the inner chain finished; `status` is 500 for an unmapped error.
    func observe(_ request: Request, _ context: AppRequestContext, status: Int, since started: ContinuousClock.Instant)
}

extension RequestObserver {
    func handle(
        _ request: Request, context: AppRequestContext,
        next: (Request, AppRequestContext) async throws -> Response
    ) async throws -> Response {
        let started = ContinuousClock.now
        do {
            let response = try await next(request, context)
            observe(request, context, status: Int(response.status.code), since: started)
            return response
        } catch {
            observe(request, context, status: 500, since: started)
            throw error
        }
    }
}
