import HTTPTypes
import Hummingbird

/// Low-cardinality labels for logs and metrics: route templates (never raw paths) and a closed set of methods.
enum RouteLabel {
    /// Label for requests that matched no route (404 and 405).
    static let unmatched = "unmatched"

    /// The matched route template (`/api/v1/marketing/clicks/{id}`), or `unmatched`.
    static func route(_ context: some RequestContext) -> String {
        guard let path = context.endpointPath, path != "NotFound" else { return unmatched }
        return path
    }

    private static let knownMethods: Set<String> = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]

    /// The method, or `OTHER` for anything outside the usual verbs (clients choose methods freely).
    static func method(_ method: HTTPRequest.Method) -> String {
        knownMethods.contains(method.rawValue) ? method.rawValue : "OTHER"
    }
}
