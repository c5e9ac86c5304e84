import Foundation

/// The billing page's static files (SwiftPM resources of MiniApp), read once at start and served from memory.
public struct MiniAppAssets: Sendable {
    public struct Asset: Sendable {
        public let body: Data
        public let contentType: String
    }

    private let assets: [String: Asset]

    /// Loads every file shipped in `Resources/`.
    public init() {
        var assets: [String: Asset] = [:]
        let files = [
            "index.html": "text/html; charset=utf-8", "app.js": "text/javascript; charset=utf-8",
            "app-format.js": "text/javascript; charset=utf-8", "app.css": "text/css; charset=utf-8",
        ]
        for (name, type) in files {
            let parts = name.split(separator: ".", maxSplits: 1).map(String.init)
            guard parts.count == 2,
                let url = Bundle.module.url(forResource: parts[0], withExtension: parts[1])
                    ?? Bundle.module.url(forResource: parts[0], withExtension: parts[1], subdirectory: "Resources"),
                let data = try? Data(contentsOf: url)
            else { continue }
            assets[name] = Asset(body: data, contentType: type)
        }
        self.assets = assets
    }

    /// The asset for a path below `/miniapp/` (`""` is the page itself), or nil.
    public func asset(path: String) -> Asset? {
        assets[path.isEmpty ? "index.html" : path]
    }

    /// Names of the loaded files (for a startup check).
    public var names: [String] { assets.keys.sorted() }
}
