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
        condition.signal()
    }

    /// Waits (at most `timeout`) until every queued line has been written; for the end of the process.
    func flush(timeout: Duration = .seconds(2)) {
        let deadline = Date().addingTimeInterval(Double(timeout.components.seconds) + Double(timeout.components.attoseconds) / 1e18)
        condition.lock()
        defer { condition.unlock() }
        while !queue.isEmpty || writing {
            if !condition.wait(until: deadline) { return }
        }
    }

    private func run() {
        while true {
            condition.lock()
            while queue.isEmpty { condition.wait() }
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
