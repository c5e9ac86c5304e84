import Foundation

/// What one HTTP load phase did: counts, wall time, per-request latencies and the outcomes the server reported.
struct WebhookLoadResult: Sendable {
    /// Requests sent and finished: answered (any status) or failed in transport.
    let completed: Int
    /// Requests that failed: transport errors, or an answer that was not the expected status/outcome.
    let errors: Int
    /// Wall time of the phase in seconds.
    let elapsed: Double
    /// Latencies in microseconds, sorted (every completed request, errors included).
    let latencies: [Int]
    /// `outcome` values (webhook) or HTTP status codes (auth), with their counts.
    let outcomes: [String: Int]
    /// CPU seconds (user + system) this load generator used during the phase.
    var clientCPU: Double = 0

    /// Answered requests per second.
    var throughput: Double { elapsed > 0 ? Double(completed) / elapsed : 0 }

    /// A latency percentile in milliseconds (`fraction` 0...1).
    func percentile(_ fraction: Double) -> Double {
        guard !latencies.isEmpty else { return 0 }
        let index = min(latencies.count - 1, Int(Double(latencies.count) * fraction))
        return Double(latencies[index]) / 1000
    }

    /// One machine-readable line (`key=value` pairs; scripts parse `rps=`, `p50_ms=`, `p99_ms=`).
    func report(bench: String, mode: String, concurrency: Int) -> String {
        let outcomeText = outcomes.keys.sorted().map { "\($0):\(outcomes[$0] ?? 0)" }.joined(separator: ",")
        return String(
            format:
                "%@ mode=%@ concurrency=%d requests=%d errors=%d seconds=%.2f rps=%.1f p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f max_ms=%.3f client_cpu_s=%.2f outcomes=%@",
            bench, mode, concurrency, completed, errors, elapsed, throughput, percentile(0.5), percentile(0.9),
            percentile(0.99), latencies.last.map { Double($0) / 1000 } ?? 0, clientCPU, outcomeText.isEmpty ? "-" : outcomeText)
    }

    /// Combines per-task results measured over the same wall time.
    static func merge(_ parts: [Part], elapsed: Double) -> WebhookLoadResult {
        var outcomes: [String: Int] = [:]
        for part in parts { outcomes.merge(part.outcomes, uniquingKeysWith: +) }
        return WebhookLoadResult(
            completed: parts.reduce(0) { $0 + $1.latencies.count },
            errors: parts.reduce(0) { $0 + $1.errors },
            elapsed: elapsed,
            latencies: parts.flatMap(\.latencies).sorted(),
            outcomes: outcomes)
    }

    /// One task's share of a phase.
    struct Part: Sendable {
        var latencies: [Int] = []
        var errors = 0
        var outcomes: [String: Int] = [:]
    }
}

/// CPU seconds (user + system) this process has used so far.
func processCPUSeconds() -> Double {
    var usage = rusage()
    guard getrusage(RUSAGE_SELF.rawValue, &usage) == 0 else { return 0 }
    func seconds(_ time: timeval) -> Double { Double(time.tv_sec) + Double(time.tv_usec) / 1e6 }
    return seconds(usage.ru_utime) + seconds(usage.ru_stime)
}

extension Duration {
    /// Whole microseconds.
    var microseconds: Int {
        Int(components.seconds) * 1_000_000 + Int(components.attoseconds / 1_000_000_000_000)
    }

    /// Seconds as a Double.
    var secondsDouble: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
