import Billing
import HTTPTypes
import Hummingbird
import NIOCore
import PGClient

/// The operators' console at `/admin/` (a static page: `index.html`, `console.js`, `console-format.js`,
/// `console-render.js`, `console.css`, compiled into the binary with SwiftPM `.embedInCode`, so no build step and no
/// resource bundle), and the one read it needs that no
/// other admin route offers: `GET /admin/v1/reconcile/runs?provider=&limit=`.
///
/// The page holds no secret: the operator types `ADMIN_TOKEN` into it, the script keeps it in memory only and sends
/// it as `Authorization: Bearer` to the existing `/admin/v1` routes (each of which logs its own action). The page
/// and the runs list are absent when `ADMIN_TOKEN` is unset, like the rest of the admin API.
struct AdminConsoleController: AppModule, Sendable {
    /// Scripts, styles and fetches from this server only; no inline code, no plugins, no framing, no form posts.
    static let policy = [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    ].joined(separator: "; ")

    struct Asset: Sendable {
        let bytes: [UInt8]
        let contentType: String
    }

    static var assets: [String: Asset] {
        [
            "": Asset(bytes: PackageResources.index_html, contentType: "text/html; charset=utf-8"),
            "console.js": Asset(bytes: PackageResources.console_js, contentType: "text/javascript; charset=utf-8"),
            "console-format.js": Asset(
                bytes: PackageResources.console_format_js, contentType: "text/javascript; charset=utf-8"),
            "console-render.js": Asset(
                bytes: PackageResources.console_render_js, contentType: "text/javascript; charset=utf-8"),
            "console.css": Asset(bytes: PackageResources.console_css, contentType: "text/css; charset=utf-8"),
        ]
    }

    /// Each file's bytes and content type, made once.
    let files: [String: (buffer: ByteBuffer, contentType: String)]
    /// The security headers every file is served with.
    let headers: HTTPFields
    let pool: PGPool

    init(pool: PGPool) {
        self.pool = pool
        files = Self.assets.mapValues { (buffer: ByteBuffer(bytes: $0.bytes), contentType: $0.contentType) }
        var common: HTTPFields = [.contentSecurityPolicy: Self.policy]
        for (name, value) in [("X-Frame-Options", "DENY"), ("Referrer-Policy", "no-referrer")] {
            if let field = HTTPField.Name(name) { common[field] = value }
        }
        headers = common
    }

    static func addRoutes(to router: AppRouter, config: AppConfig, dependencies: AppDependencies) {
        guard let token = config.adminToken else { return }
        let controller = Self(pool: dependencies.pool)
        // Hummingbird treats "/admin" and "/admin/" as one path.
        router.get("/admin", use: controller.index)
        router.get("/admin/{file}", use: controller.file)
        router.group("/admin/v1/reconcile").add(middleware: AdminAuthMiddleware(token: token))
            .get("/runs", use: controller.reconcileRuns)
    }

    @Sendable func index(_ request: Request, context: AppRequestContext) throws -> Response {
        try page("")
    }

    @Sendable func file(_ request: Request, context: AppRequestContext) throws -> Response {
        try page(context.parameters.get("file") ?? "")
    }

    func page(_ name: String) throws -> Response {
        guard let file = files[name == "index.html" ? "" : name] else { throw ProblemError.notFound() }
        var fields = headers
        fields[.contentType] = file.contentType
        return Response(status: .ok, headers: fields, body: .init(byteBuffer: file.buffer))
    }

    @Sendable func reconcileRuns(_ request: Request, context: AppRequestContext) async throws -> ReconcileRunList {
        let provider = try request.uri.queryParameters["provider"].map { text throws(ProblemError) in
            guard let provider = PaymentProvider(rawValue: String(text)) else {
                throw ProblemError.badRequest("provider must be stripe or telegram_stars")
            }
            return provider
        }
        let limit = try APIFormat.limit(request.uri.queryParameters["limit"].map(String.init))
        let runs = try await pool.withConnection { connection in
            try await ReconcileRunsStore.list(connection, provider: provider, limit: limit)
        }
        return ReconcileRunList(runs: runs.map(ReconcileRunList.Item.init))
    }
}

/// `{"runs": [{"id", "provider", "window_start", "window_end", "seen", "recovered", "failed", "started_at",
/// "finished_at"}]}`, newest first; `finished_at` is null while a run is going.
struct ReconcileRunList: ResponseEncodable, Sendable {
    struct Item: Encodable, Sendable {
        var id: Int64
        var provider: String
        var windowStart: String
        var windowEnd: String
        var seen: Int
        var recovered: Int
        var failed: Int
        var startedAt: String
        var finishedAt: String?

        enum CodingKeys: String, CodingKey {
            case id, provider, seen, recovered, failed
            case windowStart = "window_start"
            case windowEnd = "window_end"
            case startedAt = "started_at"
            case finishedAt = "finished_at"
        }

        init(_ run: ReconcileRun) {
            id = run.id
            provider = run.provider.rawValue
            windowStart = APIFormat.timestamp(run.windowStart)
            windowEnd = APIFormat.timestamp(run.windowEnd)
            seen = run.seen
            recovered = run.recovered
            failed = run.failed
            startedAt = APIFormat.timestamp(run.startedAt)
            finishedAt = APIFormat.timestamp(run.finishedAt)
        }

        /// Every key, `"finished_at": null` included.
        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(id, forKey: .id)
            try container.encode(provider, forKey: .provider)
            try container.encode(windowStart, forKey: .windowStart)
            try container.encode(windowEnd, forKey: .windowEnd)
            try container.encode(seen, forKey: .seen)
            try container.encode(recovered, forKey: .recovered)
            try container.encode(failed, forKey: .failed)
            try container.encode(startedAt, forKey: .startedAt)
            try container.encode(finishedAt, forKey: .finishedAt)
        }
    }

    var runs: [Item]
}
