import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import Synchronization
import TestSupport
import Testing

@testable import App

#if canImport(Glibc)
import Glibc
#endif

/// The log sink never blocks a request on a stalled stdout; text logs cannot be forged; readiness is cached.
@Suite struct LoggingHardeningTests {
    /// A pipe nobody reads stands in for a stalled stdout: writing many lines returns at once, lines beyond the
    /// queue are dropped and counted, and what does get through is whole lines.
    @Test func aStalledOutputDropsLinesInsteadOfBlocking() async throws {
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        let (readEnd, writeEnd) = (fds[0], fds[1])
        let writer = LineWriter(fileDescriptor: writeEnd, capacityBytes: 64 * 1024)
        let line = String(repeating: "x", count: 99)
        let total = 20_000
        // If a write blocked on the pipe, this would never finish (the pipe holds 64 KiB, the lines 2 MB).
        let finished = try await withDeadline(.seconds(30)) {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<4 {
                    group.addTask { for _ in 0..<(total / 4) { writer.write(line) } }
                }
                try await group.waitForAll()
            }
            return true
        }
        #expect(finished)
        let dropped = writer.dropped
        #expect(dropped > 0)
        #expect(dropped < total)

        // Drain the pipe: the lines not dropped arrive whole.
        let received = Mutex<[UInt8]>([])
        let reader = Thread {
            var buffer = [UInt8](repeating: 0, count: 65536)
            while true {
                let count = buffer.withUnsafeMutableBytes { Glibc.read(readEnd, $0.baseAddress, $0.count) }
                if count <= 0 { return }
                received.withLock { $0 += buffer[0..<count] }
            }
        }
        reader.start()
        writer.flush(timeout: .seconds(20))
        close(writeEnd)
        #expect(
            try await eventually(timeout: .seconds(60)) {
                received.withLock { $0.count } == (total - dropped) * 100
            })
        let lines = received.withLock { String(decoding: $0, as: UTF8.self) }.split(separator: "\n")
        #expect(lines.count == total - dropped)
        #expect(lines.allSatisfy { $0 == line })
        close(readEnd)
    }

    @Test func droppedLinesAreCountedOnTheMetricsPage() async throws {
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        let (readEnd, writeEnd) = (fds[0], fds[1])
        let writer = LineWriter(fileDescriptor: writeEnd, capacityBytes: 1024)
        defer {
            // Drain the pipe so the writer thread is not left blocked, then close both ends.
            let reader = Thread {
                var buffer = [UInt8](repeating: 0, count: 65536)
                while buffer.withUnsafeMutableBytes({ Glibc.read(readEnd, $0.baseAddress, $0.count) }) > 0 {}
                close(readEnd)
            }
            reader.start()
            writer.flush(timeout: .seconds(20))
            close(writeEnd)
        }
        for _ in 0..<2000 { writer.write(String(repeating: "y", count: 200)) }
        try await AppTestSupport.withApp(logLines: writer) { client in
            let first = try await client.execute(uri: "/metrics", method: .get, headers: [:], body: nil)
            let text = first.text
            #expect(text.contains("# HELP log_lines_dropped_total "))
            #expect(try PrometheusText(text).value("log_lines_dropped_total") == Double(writer.dropped))
            for _ in 0..<10 { writer.write(String(repeating: "z", count: 2000)) }
            let second = try await client.execute(uri: "/metrics", method: .get, headers: [:], body: nil)
            #expect(try PrometheusText(second.text).value("log_lines_dropped_total") == Double(writer.dropped))
        }
    }

    @Test func textLogsEscapeControlCharacters() throws {
        let lines = Mutex<[String]>([])
        let sink = LogSink { line in lines.withLock { $0.append(line) } }
        var logger = Logger(label: "telebot") { label in TextLogHandler(label: label, sink: sink, level: .info) }
        logger.logLevel = .info
        logger.info(
            "user said\nhi",
            metadata: [
                "name": "Ada\n2026-01-01T00:00:00.000Z error telebot: forged line",
                "tabbed": "a\tb\rc\u{1}d\u{7F}e\\f", "plain": "value", "spaced": "two words", "n": .stringConvertible(42),
            ])
        let written = try #require(lines.withLock { $0.first })
        #expect(lines.withLock { $0.count } == 1)
        #expect(!written.contains("\n") && !written.contains("\r") && !written.contains("\t"))
        #expect(!written.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F })
        #expect(written.contains(" info telebot: user said\\nhi "))
        #expect(written.contains(#"name="Ada\n2026-01-01T00:00:00.000Z error telebot: forged line""#))
        #expect(written.contains(#"tabbed=a\tb\rc\u{01}d\u{7f}e\\f"#))
        #expect(written.contains(" plain=value"))
        #expect(written.contains(#" spaced="two words""#))
        #expect(written.contains(" n=42"))
    }

    /// 200 concurrent readiness checks run one probe; once the answer is older than the period, the next runs one.
    @Test func readinessRunsAtMostOneProbePerPeriod() async throws {
        let probes = Mutex(0)
        let cache = ReadinessCache(ttl: .seconds(60)) {
            probes.withLock { $0 += 1 }
            try await Task.sleep(for: .milliseconds(50))
        }
        let answers = await withTaskGroup(of: String?.self) { group in
            for _ in 0..<200 { group.addTask { await cache.check() } }
            return await group.reduce(into: [String?]()) { $0.append($1) }
        }
        #expect(answers.count == 200 && answers.allSatisfy { $0 == nil })
        #expect(probes.withLock { $0 } == 1)

        struct Down: Error {}
        let failing = ReadinessCache(ttl: .zero) { throw Down() }
        #expect(await failing.check() != nil)
        #expect(await failing.check() != nil)
        #expect(await failing.checksRun == 2)
    }

    @Test func aFloodOfReadinessProbesIsAnsweredFromTheCache() async throws {
        try await TestDatabase.with(poolSize: 1) { _, pool in
            // A generous readiness timeout: this is about caching, and one probe query on a loaded machine can take
            // longer than the default second (its 503 would then be the cached answer).
            try await AppTestSupport.withApp(pool: pool, readinessTimeout: .seconds(30), readinessCacheTTL: .seconds(60)) { client in
                let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                    for _ in 0..<100 {
                        group.addTask {
                            Int(try await client.execute(uri: "/health/ready", method: .get, headers: [:], body: nil).status.code)
                        }
                    }
                    return try await group.reduce(into: [Int]()) { $0.append($1) }
                }
                #expect(statuses == Array(repeating: 200, count: 100))
            }
        }
    }
}
