import AsyncHTTPClient
import Foundation
import NIOCore
import Synchronization

/// Fires HTTP requests from `concurrency` tasks over one keep-alive `HTTPClient` (one connection per task) and
/// times each request from send to the last byte of the answer.
///
/// Work is a sequence of request indexes shared by all tasks (an atomic counter): a phase ends when `count` requests
/// were taken or the deadline passed, whichever comes first.
struct WebhookLoadRunner: Sendable {
    /// What the caller decides about one answer: its label (an `outcome`, a status) and whether it is the expected one.
    typealias Classifier = @Sendable (_ status: Int, _ body: ByteBuffer) -> (label: String, ok: Bool)

    let client: HTTPClient
    let timeout: TimeAmount

    /// Counts answered requests while a phase runs (the soak's progress lines read it).
    final class Progress: Sendable {
        let completed = Atomic<Int>(0)
        let errors = Atomic<Int>(0)
    }

    /// The next request index, shared by a phase's tasks.
    private final class Cursor: Sendable {
        let next = Atomic<Int>(0)
    }

    /// A client with up to `connections` keep-alive HTTP/1.1 connections to one host.
    static func makeClient(connections: Int) -> HTTPClient {
        var configuration = HTTPClient.Configuration()
        configuration.httpVersion = .http1Only
        configuration.connectionPool = .init(
            idleTimeout: .seconds(120), concurrentHTTP1ConnectionsPerHostSoftLimit: max(1, connections))
        configuration.decompression = .disabled
        configuration.timeout = .init(connect: .seconds(5), read: .seconds(60))
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    /// Runs one phase.
    /// - Parameters:
    ///   - concurrency: tasks, each with at most one request in flight.
    ///   - count: requests to send at most (indexes `0..<count`); nil for no limit (then `duration` must be set).
    ///   - duration: stop taking new requests after this long; nil to run until `count` are sent.
    ///   - progress: live counters, for progress reports.
    ///   - request: the request for an index (pre-built ones are just looked up).
    ///   - classify: labels an answer and says whether it is the expected one.
    func run(
        concurrency: Int, count: Int?, duration: Duration?, progress: Progress = Progress(),
        request: @escaping @Sendable (Int) -> HTTPClientRequest, classify: @escaping Classifier
    ) async -> WebhookLoadResult {
        let cursor = Cursor()
        let cpuBefore = processCPUSeconds()
        let started = ContinuousClock.now
        let deadline = duration.map { started + $0 }
        let client = self.client
        let timeout = self.timeout
        let parts = await withTaskGroup(of: WebhookLoadResult.Part.self) { group in
            for _ in 0..<concurrency {
                group.addTask {
                    var part = WebhookLoadResult.Part()
                    part.latencies.reserveCapacity(count.map { $0 / max(1, concurrency) + 16 } ?? 1 << 16)
                    while true {
                        if let deadline, ContinuousClock.now >= deadline { break }
                        let index = cursor.next.add(1, ordering: .relaxed).oldValue
                        if let count, index >= count { break }
                        let outgoing = request(index)
                        let sent = ContinuousClock.now
                        var label = "transport_error"
                        var ok = false
                        do {
                            let response = try await client.execute(outgoing, timeout: timeout)
                            let body = try await response.body.collect(upTo: 1 << 20)
                            (label, ok) = classify(Int(response.status.code), body)
                        } catch {
                            label = "transport_error"
                        }
                        part.latencies.append((ContinuousClock.now - sent).microseconds)
                        part.outcomes[label, default: 0] += 1
                        progress.completed.add(1, ordering: .relaxed)
                        if !ok {
                            part.errors += 1
                            progress.errors.add(1, ordering: .relaxed)
                        }
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
