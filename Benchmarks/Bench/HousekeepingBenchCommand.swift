import ArgumentParser
import AsyncHTTPClient
import Billing
import Foundation
import NIOCore
import PGClient
import Synchronization

/// `telebot-bench housekeeping`: a housekeeping purge of `--rows` old `telegram_updates` rows while Telegram
/// webhooks keep arriving at a running `telebot serve`.
///
/// Seeds the old rows (40 days old), measures webhook latency without the purge (baseline), then runs one
/// `Housekeeper` round (the code `serve`'s housekeeping service runs: batches of `--batch` rows, one transaction
/// each) while the same load continues, and reports webhook latency during the purge and the purge's own rate.
/// Each webhook is a new plain-text message, so each answer inserts a row into the very table being purged.
struct HousekeepingBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "housekeeping",
        abstract: "Purge old telegram_updates while Telegram webhooks are answered (see scripts/bench-housekeeping)."
    )

    @Option(help: "Base URL of the server (POSTs go to <url>/webhooks/telegram).")
    var url: String = "http://127.0.0.1:8080"

    @Option(help: "TELEGRAM_WEBHOOK_SECRET of the server.")
    var secret: String

    @Option(name: .customLong("database-url"), help: "The server's database (seeding and the purge run here).")
    var databaseURL: String

    @Option(help: "Old rows to seed and purge.")
    var rows: Int = 1_000_000

    @Option(help: "Rows per purge batch (per transaction).")
    var batch: Int = 5000

    @Option(help: "Concurrent webhook senders (one keep-alive connection each).")
    var concurrency: Int = 8

    @Option(help: "Seconds of baseline load before the purge.")
    var baselineSeconds: Double = 10

    func run() async throws {
        let pool = PGPool(configuration: PGPoolConfiguration(conninfo: databaseURL, size: 2))
        let seedStart = ContinuousClock.now
        let rows = self.rows
        try await pool.withConnection { connection in
            try await connection.execute(
                """
                INSERT INTO telegram_updates (update_id, kind, received_at)
                SELECT 9000000000 + g, 'message', now() - interval '40 days' - make_interval(secs => g)
                FROM generate_series(1, \(rows)) AS g
                """)
            try await connection.execute("VACUUM ANALYZE telegram_updates")
        }
        print(String(format: "housekeeping-bench seed rows=%d seconds=%.1f", rows, (ContinuousClock.now - seedStart).secondsDouble))

        let client = WebhookLoadRunner.makeClient(connections: concurrency)
        let runner = WebhookLoadRunner(client: client, timeout: .seconds(30))
        let request = Self.requestMaker(url: url, secret: secret)
        let classify: WebhookLoadRunner.Classifier = { status, _ in ("\(status)", status == 200) }
        _ = await runner.run(concurrency: concurrency, count: nil, duration: .seconds(2), request: request(0), classify: classify)
        let baseline = await runner.run(
            concurrency: concurrency, count: nil, duration: .milliseconds(Int64(baselineSeconds * 1000)),
            request: request(1), classify: classify)
        print(baseline.report(bench: "housekeeping-bench", mode: "baseline", concurrency: concurrency))

        var housekeeper = Housekeeper(pool: pool, updatesRetention: 30 * 86_400, payloadRetention: 90 * 86_400)
        housekeeper.batchSize = batch
        let done = DoneFlag()
        let purge = Task {
            defer { done.set() }
            let started = ContinuousClock.now
            let report = try await housekeeper.round()
            return (report, (ContinuousClock.now - started).secondsDouble)
        }
        var slices: [WebhookLoadResult] = []
        var slice = 2
        // One-second slices of the same load until the round is done: the latencies measured while it ran.
        while !done.isSet {
            slices.append(
                await runner.run(
                    concurrency: concurrency, count: nil, duration: .seconds(1), request: request(slice), classify: classify))
            slice += 1
        }
        // The round's own time (the load slices around it end on whole seconds).
        let (report, purgeSeconds) = try await purge.value
        let during = WebhookLoadResult(
            completed: slices.reduce(0) { $0 + $1.completed }, errors: slices.reduce(0) { $0 + $1.errors },
            elapsed: slices.reduce(0) { $0 + $1.elapsed }, latencies: slices.flatMap(\.latencies).sorted(),
            outcomes: slices.reduce(into: [:]) { $0.merge($1.outcomes, uniquingKeysWith: +) })
        print(during.report(bench: "housekeeping-bench", mode: "during_purge", concurrency: concurrency))
        print(
            String(
                format: "housekeeping-bench purge rows=%d batches=%d batch=%d seconds=%.2f rows_per_s=%.0f skipped=%@",
                report.telegramUpdates, report.batches, batch, purgeSeconds,
                Double(report.telegramUpdates) / max(purgeSeconds, 0.001), report.skipped ? "true" : "false"))
        print(
            String(
                format: "housekeeping-bench verdict p99_during_purge_ms=%.3f p99_baseline_ms=%.3f target_ms=50 %@",
                during.percentile(0.99), baseline.percentile(0.99), during.percentile(0.99) < 50 ? "PASS" : "FAIL"))
        try await client.shutdown()
        await pool.close()
    }

    /// Set when the purge task ends: the slices loop stops at the next slice boundary.
    final class DoneFlag: Sendable {
        private let value = Atomic<Bool>(false)
        func set() { value.store(true, ordering: .relaxed) }
        var isSet: Bool { value.load(ordering: .relaxed) }
    }

    /// Requests for slice `slice`: a plain-text message with a fresh `update_id` per index.
    static func requestMaker(url: String, secret: String) -> @Sendable (Int) -> @Sendable (Int) -> HTTPClientRequest {
        let base = Int64(Date().timeIntervalSince1970) * 1_000
        return { slice in
            { index in
                let updateID = 20_000_000_000 + base * 10 + Int64(slice) * 10_000_000 + Int64(index)
                var request = HTTPClientRequest(url: url + "/webhooks/telegram")
                request.method = .POST
                request.headers.add(name: "Content-Type", value: "application/json")
                request.headers.add(name: "X-Telegram-Bot-Api-Secret-Token", value: secret)
                let body = """
                    {"update_id":\(updateID),"message":{"message_id":\(index + 1),"from":{"id":777000,"is_bot":false,\
                    "first_name":"Bench"},"chat":{"id":777000,"type":"private"},"date":\(base / 1000),"text":"hello"}}
                    """
                request.body = .bytes(ByteBuffer(string: body))
                return request
            }
        }
    }
}
