import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import PGClient
import Synchronization
import TestSupport

@testable import App

/// Configuration and dependencies for building the real application in tests.
enum AppTestSupport {
    /// A complete, valid environment (fake secrets of the right shape).
    static func environment(_ overrides: [String: String] = [:]) -> [String: String] {
        var environment = [
            "DATABASE_URL": TestEnvironment.conninfo(database: "postgres"),
            "HOST": "127.0.0.1",
            "PORT": "0",
            "TELEGRAM_BOT_TOKEN": "123456:test-token-not-real",
            "TELEGRAM_WEBHOOK_SECRET": "test-webhook-secret-0123456789abcdef",
            "JWT_SECRET": String(repeating: "k", count: 48),
            "MIGRATIONS_DIR": TestEnvironment.migrationsDir,
            "LOG_FORMAT": "json",
        ]
        environment.merge(overrides) { _, new in new }
        return environment
    }

    static func config(_ overrides: [String: String] = [:]) throws -> AppConfig {
        try AppConfig.load(from: environment(overrides))
    }

    /// A pool that is never used to connect unless a test asks (connections open lazily).
    static func idlePool() -> PGPool {
        PGPool(configuration: PGPoolConfiguration(conninfo: TestEnvironment.conninfo(database: "postgres"), size: 1))
    }

    /// Runs `body` against the application built over `pool` (default: an idle pool on the test cluster that the
    /// helper closes) and a fresh metrics registry.
    static func withApp<T: Sendable>(
        pool: PGPool? = nil,
        logger: Logger = quietLogger,
        metrics: AppMetrics = AppMetrics(),
        extraModules: [any AppModule.Type] = [TestRoutes.self],
        readinessTimeout: Duration = .seconds(30),
        testing: TestingSetup = .router,
        configOverrides: [String: String] = [:],
        readinessCacheTTL: Duration = .zero,
        logLines: LineWriter = .standardOutput,
        _ body: @escaping @Sendable (any TestClientProtocol) async throws -> T
    ) async throws -> T {
        let ownPool = pool == nil ? idlePool() : nil
        var dependencies = AppDependencies(
            pool: pool ?? ownPool ?? idlePool(), logger: logger, metrics: metrics, readinessTimeout: readinessTimeout)
        dependencies.readinessCacheTTL = readinessCacheTTL
        dependencies.logLines = logLines
        ContractMetrics.register(factory: metrics.factory, planCodes: ["premium_monthly"])
        let app = buildApplication(
            config: try config(configOverrides), dependencies: dependencies, modules: coreModules + extraModules)
        do {
            let value = try await app.test(testing) { client in try await body(client) }
            await ownPool?.close()
            return value
        } catch {
            await ownPool?.close()
            throw error
        }
    }

    /// The modules these tests exercise: probes and metrics. Feature modules are tested by their owners, and
    /// all of them together by `ServeBinaryTests` (a route conflict is a crash, which only a child process
    /// survives).
    static var coreModules: [any AppModule.Type] { [HealthController.self, MetricsController.self] }

    /// Test logger: only errors, to stderr.
    static var quietLogger: Logger {
        var logger = Logger(label: "telebot-test")
        logger.logLevel = .error
        return logger
    }
}

/// Routes only tests mount: a slow one, one failing with a secret in its error, one decoding JSON.
enum TestRoutes: AppModule {
    struct SecretError: Error, CustomStringConvertible {
        var description: String { "connection to vault failed: password=hunter2" }
    }

    struct Echo: Codable, ResponseEncodable {
        let name: String
    }

    /// Tags (`?tag=`) of `/test/slow` requests whose handler has started.
    static let slowStarted = Mutex<Set<String>>([])

    /// Waits (up to 20 s) until the `/test/slow` request tagged `tag` is being handled, so a test acts on a
    /// request that is really in flight rather than one still connecting on a busy machine.
    static func waitForSlow(tag: String) async throws -> Bool {
        try await eventually(timeout: .seconds(60)) { slowStarted.withLock { $0.contains(tag) } }
    }

    /// Tags of `/test/slow?hold=1` requests the test lets finish (a held request waits for its tag, 60 s at most).
    static let slowReleased = Mutex<Set<String>>([])

    static func addRoutes(to router: AppRouter, config: AppConfig, dependencies: AppDependencies) {
        router.get("/test/slow") { request, _ in
            let milliseconds = Int(request.uri.queryParameters["ms"] ?? "") ?? 1500
            let tag = request.uri.queryParameters["tag"].map(String.init)
            if let tag { slowStarted.withLock { _ = $0.insert(tag) } }
            if let tag, request.uri.queryParameters["hold"] != nil {
                let deadline = ContinuousClock.now + .seconds(60)
                while !slowReleased.withLock({ $0.contains(tag) }), ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(10))
                }
            } else {
                try await Task.sleep(for: .milliseconds(milliseconds))
            }
            return "slow done"
        }
        router.get("/test/boom") { _, _ -> String in throw SecretError() }
        router.get("/test/teapot") { _, _ -> String in
            throw ProblemError.tooManyRequests("slow down", retryAfterSeconds: 7)
        }
        router.post("/test/echo") { request, context in
            try await request.decode(as: Echo.self, context: context)
        }
        router.post("/test/size") { request, _ in
            "\(try await request.body.collect(upTo: .max).readableBytes)"
        }
        router.get("/test/items/:id") { _, context in context.parameters.get("id") ?? "" }
    }
}

/// Log lines captured by a `JSONLogHandler`.
final class LogCapture: Sendable {
    private let lines = Mutex<[String]>([])

    var sink: LogSink { LogSink { [self] line in lines.withLock { $0.append(line) } } }

    func logger(label: String = "telebot", level: Logger.Level = .info) -> Logger {
        let sink = self.sink
        var logger = Logger(label: label) { label in JSONLogHandler(label: label, sink: sink, level: level) }
        logger.logLevel = level
        return logger
    }

    var all: [String] { lines.withLock { $0 } }

    /// Captured lines parsed as JSON objects.
    var objects: [[String: Any]] {
        all.compactMap { line in
            (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any]
        }
    }
}

extension TestResponse {
    var text: String { String(buffer: body) }

    /// The body as a JSON object.
    var json: [String: Any]? {
        (try? JSONSerialization.jsonObject(with: Data(String(buffer: body).utf8))) as? [String: Any]
    }
}

/// Databases for App tests.
enum TestDatabaseHelpers {
    /// A database cloned from the migrated template, with a pool; dropped afterwards.
    static func withTemplateDatabase<T: Sendable>(
        _ body: (TestDatabase, PGPool) async throws -> T
    ) async throws -> T {
        try await TestDatabase.with(poolSize: 4, body)
    }
}

extension AppTestSupport {
    /// Runs `body` with the port of a live server (core modules and `TestRoutes`, an idle pool) built with `config`,
    /// then shuts it down gracefully, also when `body` throws.
    static func withLiveServer(config: AppConfig, _ body: @escaping @Sendable (Int) async throws -> Void) async throws {
        let pool = idlePool()
        let dependencies = AppDependencies(pool: pool, logger: quietLogger)
        let port = PortBox()
        let app = buildApplication(
            config: config, dependencies: dependencies, modules: coreModules + [TestRoutes.self],
            onListening: { port.set($0) })
        let group = AppLifecycle.serviceGroup(
            app: app, dependencies: dependencies, shutdownGrace: .seconds(5), signals: [], logger: quietLogger)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            let listening = try await port.wait()
            do {
                try await body(listening)
            } catch {
                await group.triggerGracefulShutdown()
                try? await tasks.waitForAll()
                throw error
            }
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
        await pool.close()
    }
}
