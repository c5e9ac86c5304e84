import Hummingbird

/// Innermost middleware: every error a route (or Hummingbird's router) throws becomes a problem+json response,
/// including 404 and 405.
struct ProblemMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    let mapper: ErrorMapper

    func handle(
        _ request: Request, context: AppRequestContext,
        next: (Request, AppRequestContext) async throws -> Response
    ) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            return mapper.problem(for: error, request: request, context: context).response(requestID: context.requestID)
        }
    }
}
