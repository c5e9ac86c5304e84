import Foundation
import Logging
import Synchronization
import Telegram
import TestSupport

/// Log records kept in memory, to check what the client writes.
final class LogCapture: Sendable {
    let lines = Mutex<[String]>([])

    var logger: Logger {
        var logger = Logger(label: "telebot.test.telegram", factory: { _ in CapturingLogHandler(capture: self) })
        logger.logLevel = .trace
        return logger
    }

    var text: String { lines.withLock { $0.joined(separator: "\n") } }
}

struct CapturingLogHandler: LogHandler {
    let capture: LogCapture
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let all = self.metadata.merging(event.metadata ?? [:]) { _, new in new }
        let rendered = all.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        let error = event.error.map { " error=\($0)" } ?? ""
        capture.lines.withLock { $0.append("\(event.level) \(event.message) \(rendered)\(error)") }
    }
}

extension BotAPIRetryPolicy {
    /// Three attempts with short backoffs, to keep tests quick.
    static let fast = BotAPIRetryPolicy(maxAttempts: 3, baseDelay: .milliseconds(20), maxDelay: .milliseconds(50))
}

extension FakeBotAPI {
    /// A client pointed at this fake. The timeout is generous (tests that need one to fire pass their own): on a
    /// loaded machine a timed-out attempt would be retried and reach the fake twice.
    func client(
        retry: BotAPIRetryPolicy = .fast,
        timeout: Duration = .seconds(30),
        logger: Logger = Logger(label: "telebot.test.telegram", factory: { _ in SwiftLogNoOpLogHandler() })
    ) -> BotAPIClient {
        BotAPIClient(
            configuration: BotAPIConfiguration(token: token, baseURL: baseURL, requestTimeout: timeout, retry: retry),
            logger: logger
        )
    }
}

/// The secret part of the fake's token (what must never leak).
let tokenSecret = String(FakeBotAPI.defaultToken.split(separator: ":")[1])
