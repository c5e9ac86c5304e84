import ArgumentParser
import AsyncHTTPClient
import Foundation

/// `telebot-bench webhook`: Stripe `invoice.paid` deliveries against a running `telebot serve`.
///
/// Pre-signs `--requests` unique events (new event ids, new invoice ids), fires them from `--concurrency` tasks over
/// keep-alive connections and prints throughput and latency percentiles; `--duplicates` then re-sends the same
/// (already applied) events and reports their latency; `--soak S` instead keeps the load up for S seconds, signing
/// events as it goes (pre-signing minutes of events would hold hundreds of MB in this process), and reports the
/// server's RSS (`--watch-pid`) before, at its peak during, and after the load.
struct WebhookBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "webhook",
        abstract: "Stripe webhook (invoice.paid) load against a running telebot serve (see scripts/bench-webhook)."
    )

    @Option(help: "Base URL of the server (POSTs go to <url>/webhooks/stripe).")
    var url: String = "http://127.0.0.1:8080"

    @Option(help: "The whsec_ secret the server is configured with (STRIPE_WEBHOOK_SECRET).")
    var secret: String

    @Option(help: "Concurrent requests (one keep-alive connection each).")
    var concurrency: Int = 32

    @Option(help: "Measured requests (unique, pre-signed events).")
    var requests: Int = 20_000

    @Option(help: "Unmeasured warm-up requests before the measured ones (their own event ids).")
    var warmup: Int = 2_000

    @Option(help: "Stop a phase after this many seconds even if requests remain (0: no limit).")
    var seconds: Double = 0

    @Option(help: "Seeded users: event i is for user (i % users) + 1, customer cus_bench_<user>, sub_bench_<user>.")
    var users: Int = 10_000

    @Option(help: "Plan code in the subscription metadata.")
    var plan: String = "premium_monthly"

    @Option(help: "Stripe price id on the invoice line.")
    var price: String = "price_bench_monthly"

    @Option(help: "Prefix that keeps this run's event ids apart from earlier runs' (default: random).")
    var runID: String?

    @Flag(help: "After the measured run, re-send the same events (already applied) and report their latency.")
    var duplicates = false

    @Option(help: "Soak instead: keep the load up for this many seconds, signing events on the fly.")
    var soak: Double = 0

    @Option(help: "PID of the server: report its VmRSS before, at the peak during, and after the load.")
    var watchPid: Int32?

    @Option(help: "Seconds to wait after the load before the 'after' RSS sample.")
    var settle: Double = 5

    @Flag(help: "Print one event body (as sent) and exit: the payload pgbench stores (scripts/bench-webhook).")
    var printBody = false

    func validate() throws {
        guard concurrency >= 1, requests >= 1, warmup >= 0, users >= 1, seconds >= 0, soak >= 0, settle >= 0 else {
            throw ValidationError("counts and durations must be positive")
        }
        guard secret.hasPrefix("whsec_") else { throw ValidationError("--secret must be a whsec_ secret") }
        if let runID, runID.isEmpty || !runID.allSatisfy({ $0.isLetter || $0.isNumber }) {
            throw ValidationError("--run-id must be letters and digits")
        }
    }

    func run() async throws {
        let run = runID ?? String(UInt64.random(in: 0...UInt64.max), radix: 36)
        let endpoint = url.hasSuffix("/") ? url + "webhooks/stripe" : url + "/webhooks/stripe"
        let factory = WebhookEventFactory(url: endpoint, secret: secret, runID: run, users: users, plan: plan, priceID: price)
        if printBody {
            print(factory.body(0, now: Int64(Date().timeIntervalSince1970)))
            return
        }
        let client = WebhookLoadRunner.makeClient(connections: concurrency)
        let runner = WebhookLoadRunner(client: client, timeout: .seconds(60))
        let watcher = watchPid.map(WebhookRSSWatcher.init(pid:))
        let limit: Duration? = seconds > 0 ? .milliseconds(Int64(seconds * 1000)) : nil

        if warmup > 0 {
            let warm = WebhookEventFactory(
                url: endpoint, secret: secret, runID: run + "w", users: users, plan: plan, priceID: price)
            let signed = (0..<warmup).map { warm.request($0) }
            let result = await runner.run(
                concurrency: concurrency, count: warmup, duration: limit, request: { signed[$0] },
                classify: Self.expect("processed"))
            print(result.report(bench: "webhook", mode: "warmup", concurrency: concurrency))
        }

        watcher?.sample()
        let before = watcher?.latestKiB
        let watching = watcher.map { watcher in Task { await watcher.watch() } }
        if soak > 0 {
            await runSoak(runner: runner, factory: factory, watcher: watcher)
        } else {
            let presignStarted = ContinuousClock.now
            let signed = (0..<requests).map { factory.request($0) }
            let presign = ContinuousClock.now - presignStarted
            FileHandle.standardError.write(
                Data(String(format: "[webhook] pre-signed %d events in %.2f s\n", requests, presign.secondsDouble).utf8))
            let fresh = await runner.run(
                concurrency: concurrency, count: requests, duration: limit, request: { signed[$0] },
                classify: Self.expect("processed"))
            print(fresh.report(bench: "webhook", mode: "new", concurrency: concurrency))
            if duplicates {
                let repeated = await runner.run(
                    concurrency: concurrency, count: min(requests, fresh.completed), duration: limit,
                    request: { signed[$0] }, classify: Self.expect("duplicate"))
                print(repeated.report(bench: "webhook", mode: "duplicate", concurrency: concurrency))
            }
        }
        watching?.cancel()
        if let watcher, let before {
            if settle > 0 { try? await Task.sleep(for: .milliseconds(Int64(settle * 1000))) }
            let peak = watcher.peakKiB
            watcher.sample()
            print("webhook rss pid=\(watcher.pid) before_kib=\(before) peak_kib=\(peak) after_kib=\(watcher.latestKiB)")
        }
        try await client.shutdown()
    }

    /// `--soak`: load for `soak` seconds with a progress line every 10 s.
    private func runSoak(runner: WebhookLoadRunner, factory: WebhookEventFactory, watcher: WebhookRSSWatcher?) async {
        let progress = WebhookLoadRunner.Progress()
        let reporter = Task {
            var last = 0
            var elapsed = 0
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(10))
                if Task.isCancelled { break }
                elapsed += 10
                let done = progress.completed.load(ordering: .relaxed)
                let rss = watcher.map { " rss_kib=\($0.latestKiB)" } ?? ""
                print("webhook soak t=\(elapsed)s rps=\((done - last) / 10) errors=\(progress.errors.load(ordering: .relaxed))\(rss)")
                last = done
            }
        }
        let result = await runner.run(
            concurrency: concurrency, count: nil, duration: .milliseconds(Int64(soak * 1000)), progress: progress,
            request: { factory.request($0) }, classify: Self.expect("processed"))
        reporter.cancel()
        print(result.report(bench: "webhook", mode: "soak", concurrency: concurrency))
    }

    /// 200 with `"outcome":"<expected>"`.
    static func expect(_ expected: String) -> WebhookLoadRunner.Classifier {
        { status, body in
            guard status == 200 else { return ("http_\(status)", false) }
            let outcome = WebhookEventFactory.outcome(body) ?? "unknown"
            return (outcome, outcome == expected)
        }
    }
}
