import ArgumentParser
import Billing
import Foundation
import Logging
import PGClient
import Synchronization

/// `telebot-bench webhook-direct`: the webhook's work without HTTP: `StripeEvent(decoding:)` and
/// `StripeWebhookProcessor.receive` (the route's two steps after the signature check) from `--concurrency` tasks on a
/// `PGPool` of `--connections`, on the same events and seeded database as `telebot-bench webhook`.
///
/// Between pgbench (the SQL alone) and the HTTP run (everything), it tells what the server's HTTP layer costs and
/// what PGClient plus the processor cost.
struct WebhookDirectBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "webhook-direct",
        abstract: "invoice.paid events through StripeWebhookProcessor on a PGPool, no HTTP (see scripts/bench-webhook)."
    )

    @Option(help: "libpq connection string of the seeded database.")
    var conninfo: String

    @Option(help: "Pool size (DB_POOL_SIZE).")
    var connections: Int = 32

    @Option(help: "Concurrent tasks.")
    var concurrency: Int = 32

    @Option(help: "Measured events.")
    var requests: Int = 20_000

    @Option(help: "Unmeasured warm-up events (their own ids).")
    var warmup: Int = 2_000

    @Option(help: "Seeded users (event i is for user (i % users) + 1).")
    var users: Int = 10_000

    @Option(help: "Plan code in the subscription metadata.")
    var plan: String = "premium_monthly"

    @Option(help: "Stripe price id on the invoice line.")
    var price: String = "price_bench_monthly"

    @Flag(help: "After the measured run, receive the same events again (duplicates).")
    var duplicates = false

    func validate() throws {
        guard connections >= 1, concurrency >= 1, requests >= 1, warmup >= 0, users >= 1 else {
            throw ValidationError("counts must be positive")
        }
    }

    func run() async throws {
        let run = String(UInt64.random(in: 0...UInt64.max), radix: 36)
        let pool = PGPool(
            configuration: PGPoolConfiguration(conninfo: conninfo, size: connections, checkoutTimeout: .seconds(60)))
        var logger = Logger(label: "telebot-bench.webhook-direct")
        logger.logLevel = .error
        let processor = StripeWebhookProcessor(pool: pool, logger: logger)
        let now = Int64(Date().timeIntervalSince1970)
        func bodies(_ runID: String, _ count: Int) -> [Data] {
            let factory = WebhookEventFactory(
                url: "http://127.0.0.1/webhooks/stripe", secret: "whsec_direct", runID: runID, users: users, plan: plan,
                priceID: price)
            return (0..<count).map { Data(factory.body($0, now: now).utf8) }
        }
        if warmup > 0 {
            let result = await Self.drive(processor, bodies(run + "w", warmup), concurrency: concurrency, expect: .processed)
            print(result.report(bench: "webhook-direct", mode: "warmup", concurrency: concurrency))
        }
        let events = bodies(run, requests)
        let fresh = await Self.drive(processor, events, concurrency: concurrency, expect: .processed)
        print(fresh.report(bench: "webhook-direct", mode: "new", concurrency: concurrency))
        if duplicates {
            let repeated = await Self.drive(processor, events, concurrency: concurrency, expect: .duplicate)
            print(repeated.report(bench: "webhook-direct", mode: "duplicate", concurrency: concurrency))
        }
        await pool.close()
    }

    /// The next body index, shared by a phase's tasks.
    private final class Cursor: Sendable {
        let next = Atomic<Int>(0)
    }

    /// Decodes and receives every body once, from `concurrency` tasks, as the route does after the signature check.
    static func drive(
        _ processor: StripeWebhookProcessor, _ bodies: [Data], concurrency: Int,
        expect: StripeWebhookProcessor.Outcome
    ) async -> WebhookLoadResult {
        let cursor = Cursor()
        let cpuBefore = processCPUSeconds()
        let started = ContinuousClock.now
        let parts = await withTaskGroup(of: WebhookLoadResult.Part.self) { group in
            for _ in 0..<concurrency {
                group.addTask {
                    var part = WebhookLoadResult.Part()
                    while true {
                        let index = cursor.next.add(1, ordering: .relaxed).oldValue
                        guard index < bodies.count else { break }
                        let body = bodies[index]
                        let sent = ContinuousClock.now
                        var label = "error"
                        do {
                            let event = try StripeEvent(decoding: body)
                            label = try await processor.receive(event, rawBody: String(decoding: body, as: UTF8.self))
                                .rawValue
                        } catch {
                            label = "error"
                        }
                        part.latencies.append((ContinuousClock.now - sent).microseconds)
                        part.outcomes[label, default: 0] += 1
                        if label != expect.rawValue { part.errors += 1 }
                    }
                    return part
                }
            }
            var parts: [WebhookLoadResult.Part] = []
            for await part in group { parts.append(part) }
            return parts
        }
        var result = WebhookLoadResult.merge(parts, elapsed: (ContinuousClock.now - started).secondsDouble)
        result.clientCPU = processCPUSeconds() - cpuBefore
        return result
    }
}
