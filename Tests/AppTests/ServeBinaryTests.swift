import AsyncHTTPClient
import Foundation
import NIOCore
import TestSupport
import Testing

/// `telebot serve` as operators run it: the built binary, real environment, real signals.
@Suite(.serialized) struct ServeBinaryTests {
    private func environment(database: String, port: Int, _ overrides: [String: String?] = [:]) -> [String: String] {
        var environment = [
            "DATABASE_URL": TestEnvironment.conninfo(database: database),
            "HOST": "127.0.0.1",
            "PORT": "\(port)",
            "TELEGRAM_BOT_TOKEN": "123456:binary-test-token",
            "TELEGRAM_WEBHOOK_SECRET": "binary-webhook-secret-0123456789abcdef",
            "JWT_SECRET": "binary-jwt-secret-0123456789abcdef-xyz",
            "ADMIN_TOKEN": "binary-admin-token-0123456789abcdefghij",
            "MIGRATIONS_DIR": TestEnvironment.migrationsDir,
            "PLANS_FILE": TestEnvironment.repoRoot + "/plans.example.json",
            "LOG_FORMAT": "json",
            "SHUTDOWN_GRACE_SECONDS": "10",
        ]
        for (key, value) in overrides { environment[key] = value }
        return environment
    }

    @Test func missingSecretExitsWith2AndOneLineNamingTheVariable() async throws {
        try #require(FileManager.default.fileExists(atPath: ServeProcess.binary), "build the telebot binary first")
        let port = PrivateCluster.freePort()
        let serve = try ServeProcess(environment: environment(database: "postgres", port: port, ["JWT_SECRET": nil]), port: port)
        defer { serve.cleanUp() }
        #expect(await serve.exitCode() == 2)
        let lines = serve.stderr.split(separator: "\n")
        #expect(lines.count == 1)
        #expect(lines.first?.hasPrefix("telebot: configuration: JWT_SECRET is required") == true)
        #expect(serve.stdout.isEmpty)
    }

    @Test func aBusyPortExitsWith2AndOneLineSayingWhatToDo() async throws {
        try #require(FileManager.default.fileExists(atPath: ServeProcess.binary), "build the telebot binary first")
        let holder = try ListeningSocket()
        defer { holder.close() }
        let serve = try ServeProcess(environment: environment(database: "postgres", port: holder.port), port: holder.port)
        defer { serve.cleanUp() }
        #expect(await serve.exitCode() == 2)
        let lines = serve.stderr.split(separator: "\n")
        #expect(
            lines == [
                "telebot: cannot listen on 127.0.0.1:\(holder.port): address already in use (is another telebot running? set PORT)"
            ], "\(serve.stderr)")
        #expect(serve.stdout.isEmpty)
    }

    @Test func migrateUpWaitsBoundedForADatabaseThatDoesNotAnswer() async throws {
        try #require(FileManager.default.fileExists(atPath: ServeProcess.binary), "build the telebot binary first")
        let port = PrivateCluster.freePort()  // nothing listens there
        let migrate = try ServeProcess(
            arguments: ["migrate", "up", "--wait-seconds", "2", "--dir", TestEnvironment.migrationsDir],
            environment: ["DATABASE_URL": "host=127.0.0.1 port=\(port) dbname=x user=x connect_timeout=2"], port: port)
        defer { migrate.cleanUp() }
        #expect(await migrate.exitCode() == 1)
        let lines = migrate.stderr.split(separator: "\n")
        #expect(lines.count == 2, "\(migrate.stderr)")
        #expect(lines.first?.hasPrefix("migrate up: waiting up to 2 s for the database to accept connections") == true)
        #expect(lines.last?.hasPrefix("telebot: migrate up: cannot connect to the database (DATABASE_URL) after waiting 2 s") == true)
    }

    @Test func probeIsHealthyOnlyWhenReadyAnswers200() async throws {
        try #require(FileManager.default.fileExists(atPath: ServeProcess.binary), "build the telebot binary first")
        let port = PrivateCluster.freePort()
        let probe = try ServeProcess(arguments: ["probe", "--timeout-seconds", "2"], environment: ["PORT": "\(port)"], port: port)
        defer { probe.cleanUp() }
        #expect(await probe.exitCode() == 1)
        #expect(probe.stderr.hasPrefix("telebot: probe: http://127.0.0.1:\(port)/health/ready: no answer"), "\(probe.stderr)")
    }

    @Test func pendingMigrationsStopServeBeforeItListens() async throws {
        try #require(FileManager.default.fileExists(atPath: ServeProcess.binary), "build the telebot binary first")
        let database = try await TestDatabase.create(template: nil)
        let port = PrivateCluster.freePort()
        let serve = try ServeProcess(environment: environment(database: database.name, port: port), port: port)
        let exitCode = await serve.exitCode()
        let (stdout, stderr) = (serve.stdout, serve.stderr)
        serve.cleanUp()
        await database.drop()
        #expect(exitCode == 1)
        #expect(stderr.split(separator: "\n").count == 1)
        #expect(stderr.contains("pending migrations 0001_users_and_plans"), "\(stderr)")
        #expect(stderr.contains("telebot migrate up"))
        #expect(!stdout.contains("\"listening\""))
    }

    @Test func sigtermLetsAnInFlightRequestFinishAndExitsZero() async throws {
        try #require(FileManager.default.fileExists(atPath: ServeProcess.binary), "build the telebot binary first")
        try await TestDatabase.with { database, pool in
            let port = PrivateCluster.freePort()
            let serve = try ServeProcess(environment: environment(database: database.name, port: port), port: port)
            defer { serve.cleanUp() }
            let ready = try await serve.waitFor(path: "/health/ready", status: 200)
            #expect(ready != nil, "serve never became ready: \(serve.stderr)")

            // An in-flight request: the head and half the body are sent, then SIGTERM, then the rest.
            let (chunks, feed) = AsyncStream.makeStream(of: ByteBuffer.self)
            var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/health/live")
            request.method = .GET
            request.body = .stream(chunks, length: .known(Int64(2000)))
            async let response = HTTPClient.shared.execute(request, timeout: .seconds(20))
            feed.yield(ByteBuffer(repeating: 0x61, count: 1000))
            try await Task.sleep(for: .milliseconds(300))
            serve.signal(SIGTERM)
            try await Task.sleep(for: .milliseconds(700))
            #expect(serve.process.isRunning, "serve exited with a request in flight")
            feed.yield(ByteBuffer(repeating: 0x61, count: 1000))
            feed.finish()
            let answered = try await response
            #expect(answered.status.code == 200)
            #expect(String(buffer: try await answered.body.collect(upTo: 1024)).contains("live"))

            #expect(await serve.exitCode() == 0)
            let lines = serve.stdout.split(separator: "\n")
            // Every stdout line is one JSON object; config is logged once, redacted; the end is logged.
            let objects = lines.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
            #expect(objects.count == lines.count)
            #expect(objects.filter { $0["msg"] as? String == "starting" }.count == 1)
            #expect(objects.contains { $0["msg"] as? String == "plan catalog synced" })
            #expect(objects.last?["msg"] as? String == "stopped")
            for secret in ["binary-test-token", "binary-webhook-secret", "binary-jwt-secret", "binary-admin-token"] {
                #expect(!serve.stdout.contains(secret), "\(secret) leaked into the log")
            }
            // PLANS_FILE was synced at start.
            let plans = try await pool.withConnection { connection in
                try await connection.query("SELECT count(*) AS n FROM plans WHERE active").first?.decode("n", as: Int.self)
            }
            #expect(plans == 3)
        }
    }

    @Test func metricsOfTheRunningServerListEveryContractMetric() async throws {
        try #require(FileManager.default.fileExists(atPath: ServeProcess.binary), "build the telebot binary first")
        try await TestDatabase.with { database, _ in
            let port = PrivateCluster.freePort()
            let serve = try ServeProcess(environment: environment(database: database.name, port: port), port: port)
            defer { serve.cleanUp() }
            #expect(try await serve.waitFor(path: "/health/ready", status: 200) != nil, "\(serve.stderr)")
            var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/metrics")
            request.method = .GET
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(5))
            #expect(response.headers.first(name: "content-type") == "text/plain; version=0.0.4; charset=utf-8")
            let text = String(buffer: try await response.body.collect(upTo: 1 << 20))
            let parsed = try PrometheusText(text)
            for name in [
                "billing_checkout_started_total", "billing_payments_total", "telegram_payments_total",
                "telegram_payment_value_total", "miniapp_sessions_total", "miniapp_exchange_latency_seconds",
                "miniapp_checkout_start_total", "miniapp_portal_open_total", "marketing_posts_total",
                "marketing_clicks_total", "webhook_events_total", "http_requests_total",
                "http_request_duration_seconds", "db_pool_connections",
            ] {
                #expect(parsed.types[name] != nil, "\(name) missing")
            }
            // One series per plan of the synced catalog; readiness probes already counted.
            #expect(parsed.value("billing_checkout_started_total", ["plan": "boost_week"]) == 0)
            #expect((parsed.value("http_requests_total", ["method": "GET", "route": "/health/ready", "status": "200"]) ?? 0) >= 1)
            serve.signal(SIGTERM)
            #expect(await serve.exitCode() == 0)
        }
    }
}
