import ArgumentParser
import AsyncHTTPClient
import Foundation
import NIOCore

/// `telebot-bench auth`: Mini App auth exchanges per second (`POST /api/v1/miniapp/auth` with valid initData in
/// `Authorization: tma …`) against a running `telebot serve`.
///
/// Request `i` logs in Telegram user `telegram-id-base + (i % users) + 1`. The server limits exchanges per Telegram
/// user (bursts of 10, then one per 5 s) and, only when `X-Forwarded-For` is present, per IP; this bench sends no
/// `X-Forwarded-For` and keeps `requests / users` under the per-user burst, so no knob needs raising. Users that
/// scripts/bench-webhook seeded are returning users (an upsert that updates); others are created on first sight.
struct AuthBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "auth",
        abstract: "Mini App initData → token exchanges against a running telebot serve (see scripts/bench-webhook)."
    )

    @Option(help: "Base URL of the server.")
    var url: String = "http://127.0.0.1:8080"

    @Option(help: "The bot token the server is configured with (TELEGRAM_BOT_TOKEN), to sign initData.")
    var botToken: String

    @Option(help: "Concurrent requests (one keep-alive connection each).")
    var concurrency: Int = 32

    @Option(help: "Measured exchanges.")
    var requests: Int = 10_000

    @Option(help: "Unmeasured warm-up exchanges (on other Telegram ids).")
    var warmup: Int = 1_000

    @Option(help: "Distinct Telegram users the exchanges cycle through.")
    var users: Int = 10_000

    @Option(help: "Telegram ids are base+1 ... base+users.")
    var telegramIdBase: Int64 = 7_000_000_000

    @Option(help: "Stop a phase after this many seconds even if requests remain (0: no limit).")
    var seconds: Double = 0

    func validate() throws {
        guard concurrency >= 1, requests >= 1, warmup >= 0, users >= 1, seconds >= 0 else {
            throw ValidationError("counts and durations must be positive")
        }
        guard requests <= users * 8 else {
            throw ValidationError("--requests must be at most 8 x --users (the server allows bursts of 10 per user)")
        }
    }

    func run() async throws {
        let signer = AuthInitDataSigner(botToken: botToken)
        let endpoint = url.hasSuffix("/") ? url + "api/v1/miniapp/auth" : url + "/api/v1/miniapp/auth"
        let client = WebhookLoadRunner.makeClient(connections: concurrency)
        let runner = WebhookLoadRunner(client: client, timeout: .seconds(60))
        let limit: Duration? = seconds > 0 ? .milliseconds(Int64(seconds * 1000)) : nil
        let now = Int64(Date().timeIntervalSince1970)
        func request(telegramID: Int64) -> HTTPClientRequest {
            var request = HTTPClientRequest(url: endpoint)
            request.method = .POST
            request.headers.add(name: "Authorization", value: "tma " + signer.initData(telegramID: telegramID, authDate: now))
            request.headers.add(name: "User-Agent", value: "telebot-bench")
            // Users come from many addresses through a trusted proxy (serve runs with TRUSTED_PROXIES=127.0.0.1), as
            // behind a load balancer: from one address the per-IP limit (bursts of 60) would answer 429.
            request.headers.add(
                name: "X-Forwarded-For",
                value: "10.\((telegramID >> 16) & 255).\((telegramID >> 8) & 255).\(telegramID & 255)")
            return request
        }
        if warmup > 0 {
            // Warm-up users sit above the measured ones, so they do not eat the measured users' rate-limit burst.
            let signed = (0..<warmup).map { request(telegramID: telegramIdBase + Int64(users + $0 % users + 1)) }
            let result = await runner.run(
                concurrency: concurrency, count: warmup, duration: limit, request: { signed[$0] }, classify: Self.classify)
            print(result.report(bench: "auth", mode: "warmup", concurrency: concurrency))
        }
        let signed = (0..<requests).map { request(telegramID: telegramIdBase + Int64($0 % users + 1)) }
        let result = await runner.run(
            concurrency: concurrency, count: requests, duration: limit, request: { signed[$0] }, classify: Self.classify)
        print(result.report(bench: "auth", mode: "exchange", concurrency: concurrency))
        try await client.shutdown()
    }

    /// 200 with an access token.
    static let classify: WebhookLoadRunner.Classifier = { status, body in
        guard status == 200 else { return ("http_\(status)", false) }
        let text = body.getString(at: body.readerIndex, length: body.readableBytes) ?? ""
        return text.contains("\"access_token\"") ? ("http_200", true) : ("no_token", false)
    }
}
