import HTTPTypes
import Hummingbird
import Synchronization

/// Every (path template, method) registered through `AppRouter`, so a request whose path exists but whose method
/// does not can be answered 405 with `Allow` instead of Hummingbird's plain 404.
final class RouteTable: Sendable {
    private let routes = Mutex<[(path: RouterPath, method: HTTPRequest.Method)]>([])

    func add(_ path: RouterPath, method: HTTPRequest.Method) {
        routes.withLock { $0.append((path, method)) }
    }

    /// Route templates with their methods, in registration order (for tests and `--help`-style listings).
    var all: [(path: String, method: String)] {
        routes.withLock { $0.map { ($0.path.description, $0.method.rawValue) } }
    }

    /// Methods registered for templates matching `path` (HEAD counted wherever GET is), sorted; empty when no
    /// template matches.
    func allowedMethods(for path: String) -> [String] {
        let segments = path.split(separator: "/", omittingEmptySubsequences: true)
        var methods: Set<String> = []
        routes.withLock { routes in
            for route in routes where RouteTable.matches(route.path, segments) {
                methods.insert(route.method.rawValue)
                if route.method == .get { methods.insert(HTTPRequest.Method.head.rawValue) }
            }
        }
        return methods.sorted()
    }

    static func matches(_ template: RouterPath, _ segments: [Substring]) -> Bool {
        var index = 0
        for element in template.components {
            if element.description == "**" { return true }
            guard index < segments.count, element ~= segments[index] else { return false }
            index += 1
        }
        return index == segments.count
    }
}
