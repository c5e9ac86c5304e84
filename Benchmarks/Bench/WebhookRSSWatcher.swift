import Foundation
import Synchronization

/// Samples a process's resident set size (`VmRSS` in /proc/<pid>/status) once a second and keeps the maximum.
final class WebhookRSSWatcher: Sendable {
    let pid: Int32
    private let peak = Atomic<Int>(0)
    private let latest = Atomic<Int>(0)

    init(pid: Int32) { self.pid = pid }

    /// VmRSS in KiB, or nil when the process is gone or /proc is unreadable.
    static func rssKiB(pid: Int32) -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            return line.split(separator: " ").dropFirst().first.flatMap { Int($0) }
        }
        return nil
    }

    /// The largest sample so far (KiB).
    var peakKiB: Int { peak.load(ordering: .relaxed) }

    /// The last sample (KiB).
    var latestKiB: Int { latest.load(ordering: .relaxed) }

    /// Takes one sample now.
    func sample() {
        guard let value = Self.rssKiB(pid: pid) else { return }
        latest.store(value, ordering: .relaxed)
        peak.max(value, ordering: .relaxed)
    }

    /// Samples every `interval` until the task is cancelled.
    func watch(every interval: Duration = .seconds(1)) async {
        while !Task.isCancelled {
            sample()
            try? await Task.sleep(for: interval)
        }
    }
}
