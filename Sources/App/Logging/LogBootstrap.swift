import Logging

/// Installs the process-wide log backend. `LoggingSystem.bootstrap` may run once per process: `serve` calls this,
/// tests never do (they build loggers with `JSONLogHandler` directly).
enum LogBootstrap {
    static func bootstrap(format: AppConfig.LogFormat, level: Logger.Level) {
        switch format {
        case .json:
            LoggingSystem.bootstrap { label in
                JSONLogHandler(label: label, level: level)
            }
        case .text:
            LoggingSystem.bootstrap { label in
                TextLogHandler(label: label, level: level)
            }
        }
    }
}
