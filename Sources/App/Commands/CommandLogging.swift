import Logging

/// Loggers for one-shot commands (migrate, plans): plain stderr lines.
enum CommandLogging {
    static func logger(label: String) -> Logger {
        var logger = Logger(label: label) { label in StreamLogHandler.standardError(label: label) }
        logger.logLevel = .info
        return logger
    }
}
