import Foundation
import Synchronization

/// Where log lines go: standard output in `serve`, a buffer in tests. Each call writes one whole line.
struct LogSink: Sendable {
    let write: @Sendable (String) -> Void

    /// Lines to stdout through `LineWriter.standardOutput`: a request never waits for stdout, and a stalled stdout
    /// costs dropped lines (`log_lines_dropped_total`), never a stalled server.
    static let standardOutput = LogSink { line in
        LineWriter.standardOutput.write(line)
    }
}

/// A bounded queue of lines drained by a writer thread of its own. `write` only appends under a lock and never
/// blocks on the file descriptor: when the queue already holds `capacityBytes`, the line is dropped and counted.
/// The thread writes whole lines (batched, one `write(2)` per batch), so lines never interleave.
///
/// Batches: once woken by a line, the writer lingers `linger` for more before it writes (unless `batchBytes` are
/// queued or a flush waits), and `write` wakes it only when it sleeps on an empty queue. Under load that is one
/// wake-up and one `write(2)` per batch instead of per line (one per request, with the access log).
final class LineWriter: @unchecked Sendable {
    /// Standard output, with 4 MiB of lines queued at most.
    static let standardOutput = LineWriter(fileDescriptor: 1, capacityBytes: 4 << 20)

    private let fileDescriptor: Int32
    private let capacityBytes: Int
    // Guarded by `condition`.
    private let condition = NSCondition()
    private var queue: [[UInt8]] = []
    private var queuedBytes = 0
    private var droppedLines = 0
    private var writing = false
    private var started = false
    /// The writer sleeps on an empty queue: the next line wakes it.
    private var idle = false
    /// Callers of `flush` waiting: the writer writes at once.
    private var flushers = 0
    private let linger = 0.005
    private let batchBytes = 64 << 10

    init(fileDescriptor: Int32, capacityBytes: Int) {
        self.fileDescriptor = fileDescriptor
        self.capacityBytes = capacityBytes
    }

    /// Lines dropped since start because the queue was full.
    var dropped: Int {
        condition.lock()
        defer { condition.unlock() }
        return droppedLines
    }

    /// Queues `line` (a newline is added); drops it when the queue is full.
    func write(_ line: String) {
        var bytes = Array(line.utf8)
        bytes.append(UInt8(ascii: "\n"))
        condition.lock()
        defer { condition.unlock() }
        if !started {
            started = true
            let thread = Thread { [self] in run() }
            thread.name = "telebot-log-writer"
            thread.start()
        }
        guard queuedBytes + bytes.count <= capacityBytes else {
            droppedLines += 1
            return
        }
        queue.append(bytes)
        queuedBytes += bytes.count
        // Broadcast, not signal: a flusher may wait on the same condition.
        if idle || queuedBytes >= batchBytes { condition.broadcast() }
    }

    /// Waits (at most `timeout`) until every queued line has been written; for the end of the process.
    func flush(timeout: Duration = .seconds(2)) {
        let deadline = Date().addingTimeInterval(Double(timeout.components.seconds) + Double(timeout.components.attoseconds) / 1e18)
        condition.lock()
        defer { condition.unlock() }
        flushers += 1
        defer { flushers -= 1 }
        condition.broadcast()
        while !queue.isEmpty || writing {
            if !condition.wait(until: deadline) { return }
        }
    }

    private func run() {
        while true {
            condition.lock()
            while queue.isEmpty {
                idle = true
                condition.wait()
            }
            idle = false
            let until = Date(timeIntervalSinceNow: linger)
            while queuedBytes < batchBytes && flushers == 0 && Date() < until {
                _ = condition.wait(until: until)
            }
            let batch = queue
            queue = []
            queuedBytes = 0
            writing = true
            condition.unlock()

            var bytes: [UInt8] = []
            bytes.reserveCapacity(batch.reduce(0) { $0 + $1.count })
            for line in batch { bytes += line }
            writeAll(bytes)

            condition.lock()
            writing = false
            condition.broadcast()
            condition.unlock()
        }
    }

    private func writeAll(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = Foundation.write(fileDescriptor, buffer.baseAddress! + offset, buffer.count - offset)
                if written < 0 {
                    if errno == EINTR || errno == EAGAIN { continue }
                    return
                }
                offset += written
            }
        }
    }
}
