import CoreMetrics
import Synchronization

/// A metrics factory that remembers what was recorded, per label, without touching the process-wide system.
final class RecordingMetrics: MetricsFactory {
    let counts = Mutex<[String: Int64]>([:])
    let timings = Mutex<[String: [Int64]]>([:])

    func counter(_ label: String) -> Int64 { counts.withLock { $0[label] ?? 0 } }
    func timerValues(_ label: String) -> [Int64] { timings.withLock { $0[label] ?? [] } }

    final class Handler: CounterHandler, TimerHandler, RecorderHandler {
        let label: String
        let owner: RecordingMetrics
        init(_ label: String, _ owner: RecordingMetrics) {
            self.label = label
            self.owner = owner
        }
        func increment(by amount: Int64) { owner.counts.withLock { $0[label, default: 0] += amount } }
        func reset() { owner.counts.withLock { $0[label] = 0 } }
        func recordNanoseconds(_ duration: Int64) { owner.timings.withLock { $0[label, default: []].append(duration) } }
        func record(_ value: Int64) { recordNanoseconds(value) }
        func record(_ value: Double) { recordNanoseconds(Int64(value)) }
    }

    func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler { Handler(label, self) }
    func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler {
        Handler(label, self)
    }
    func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler { Handler(label, self) }
    func destroyCounter(_ handler: any CounterHandler) {}
    func destroyRecorder(_ handler: any RecorderHandler) {}
    func destroyTimer(_ handler: any TimerHandler) {}
}
