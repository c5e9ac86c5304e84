import Foundation
import Marketing
import Metrics
import Synchronization

/// A publisher that records every call and answers from a script (then succeeds with increasing message ids).
final class ScriptedPublisher: PromoPublisher {
    struct Call: Sendable {
        let chatID: String
        let text: String
        let buttons: [[PromoButton]]
        let at: Date
    }

    enum Step: Sendable {
        case fail(PromoPublishError)
        case delay(Duration)
    }

    private struct State {
        var calls: [Call] = []
        var script: [Step] = []
        var nextMessageID: Int64 = 1000
        var posted = 0
    }

    private let state = Mutex(State())

    init(script: [Step] = []) {
        state.withLock { $0.script = script }
    }

    var calls: [Call] { state.withLock { $0.calls } }
    /// Calls that answered with a message id (what the channel would show).
    var posted: Int { state.withLock { $0.posted } }

    func publish(chatID: String, text: String, buttons: [[PromoButton]]) async throws -> Int64 {
        let step = state.withLock { state -> Step? in
            state.calls.append(Call(chatID: chatID, text: text, buttons: buttons, at: Date()))
            return state.script.isEmpty ? nil : state.script.removeFirst()
        }
        switch step {
        case .fail(let error)?: throw error
        case .delay(let duration)?: try await Task.sleep(for: duration)
        case nil: break
        }
        return state.withLock { state in
            state.posted += 1
            state.nextMessageID += 1
            return state.nextMessageID
        }
    }
}

/// A metrics factory that keeps counter values, to check labels without bootstrapping the global system.
final class TestMetrics: MetricsFactory {
    final class TestCounter: CounterHandler {
        let owner: TestMetrics
        let key: String
        init(owner: TestMetrics, key: String) {
            self.owner = owner
            self.key = key
        }
        func increment(by amount: Int64) { owner.counters.withLock { $0[key, default: 0] += amount } }
        func reset() { owner.counters.withLock { $0[key] = 0 } }
    }

    final class NoOpRecorder: RecorderHandler {
        func record(_ value: Int64) {}
        func record(_ value: Double) {}
    }

    final class NoOpTimer: TimerHandler {
        func recordNanoseconds(_ duration: Int64) {}
    }

    let counters = Mutex<[String: Int64]>([:])

    /// The value of a counter, keyed `label{k=v,...}` with dimensions sorted.
    func value(_ label: String, _ dimensions: [(String, String)] = []) -> Int64 {
        counters.withLock { $0[Self.key(label, dimensions)] ?? 0 }
    }

    static func key(_ label: String, _ dimensions: [(String, String)]) -> String {
        let rendered = dimensions.sorted { $0.0 < $1.0 }.map { "\($0.0)=\($0.1)" }.joined(separator: ",")
        return "\(label){\(rendered)}"
    }

    func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler {
        TestCounter(owner: self, key: Self.key(label, dimensions))
    }

    func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler {
        NoOpRecorder()
    }

    func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler { NoOpTimer() }
    func destroyCounter(_ handler: any CounterHandler) {}
    func destroyRecorder(_ handler: any RecorderHandler) {}
    func destroyTimer(_ handler: any TimerHandler) {}
}
