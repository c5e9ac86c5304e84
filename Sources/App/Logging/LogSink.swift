import Foundation
import Synchronization

/// Where log lines go: standard output in `serve`, a buffer in tests. Each call writes one whole line.
struct LogSink: Sendable {
    let write: @Sendable (String) -> Void

    /// Lines to stdout, one `write(2)` per line under a lock, so lines from concurrent tasks never interleave.
    static let standardOutput = LogSink { line in
        StandardOutputWriter.shared.write(line)
    }
}

private final class StandardOutputWriter: Sendable {
    static let shared = StandardOutputWriter()
    private let lock = Mutex(())

    func write(_ line: String) {
        var bytes = Array(line.utf8)
        bytes.append(UInt8(ascii: "\n"))
        lock.withLock { _ in
            bytes.withUnsafeBytes { buffer in
                var offset = 0
                while offset < buffer.count {
                    let written = Foundation.write(1, buffer.baseAddress! + offset, buffer.count - offset)
                    if written < 0 {
                        if errno == EINTR { continue }
                        return
                    }
                    offset += written
                }
            }
        }
    }
}
