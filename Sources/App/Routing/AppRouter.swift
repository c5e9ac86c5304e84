import HTTPTypes
import Hummingbird

/// The application's router: a Hummingbird `Router` that also records every route in a `RouteTable` (for 405
/// answers). Register routes on it exactly as on a `Router` (`get`, `post`, `group`, `add(middleware:)`); groups
/// register through it too.
final class AppRouter: RouterMethods {
    typealias Context = AppRequestContext

    let router: Router<AppRequestContext>
    let routes: RouteTable

    init(routes: RouteTable = RouteTable()) {
        self.router = Router(context: AppRequestContext.self, options: [.autoGenerateHeadEndpoints])
        self.routes = routes
    }

    @discardableResult
    func on<Responder: HTTPResponder>(
        _ path: RouterPath, method: HTTPRequest.Method, responder: Responder
    ) -> Self where Responder.Context == AppRequestContext {
        routes.add(path, method: method)
        router.on(path, method: method, responder: responder)
        return self
    }

    @discardableResult
    func add(middleware: any MiddlewareProtocol<Request, Response, AppRequestContext>) -> Self {
        router.add(middleware: middleware)
        return self
    }
}
