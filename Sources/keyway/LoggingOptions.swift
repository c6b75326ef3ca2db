import ArgumentParser
import Logging

/// `--log-level` and `--log-format`, and the setup of swift-log to standard error.
struct LoggingOptions: ParsableArguments {
    /// The environment variable read when `--log-level` is not given.
    static let environmentVariable = "KEYWAY_LOG_LEVEL"

    @Option(name: .long, help: ArgumentHelp(
        "Log level on stderr: trace, debug, info, notice, warning, error or critical (default: $KEYWAY_LOG_LEVEL, else info for run, error for resolve, critical for demo).",
        valueName: "level"))
    var logLevel: String?

    /// The environment variable read when `--log-format` is not given.
    static let formatEnvironmentVariable = "KEYWAY_LOG_FORMAT"

    @Option(name: .long, help: ArgumentHelp(
        "Log lines on stderr as text, or as json (one object a line, for log collectors) (default: $KEYWAY_LOG_FORMAT, else text).",
        valueName: "format"))
    var logFormat: String?

    /// Sends every logger to standard error at the chosen level (`fallback` when none is given);
    /// returns the node's logger.
    func bootstrap(fallback: Logger.Level = .info, environment: [String: String]) throws -> Logger {
        let text = logLevel ?? environment[LoggingOptions.environmentVariable]
        var level = fallback
        if let text {
            guard let parsed = Logger.Level(rawValue: text.lowercased()) else {
                throw CommandFailure.error("unknown log level \"\(text)\" (trace, debug, info, notice, warning, error, critical)")
            }
            level = parsed
        }
        let chosen = level
        let format = (logFormat ?? environment[LoggingOptions.formatEnvironmentVariable] ?? "text").lowercased()
        switch format {
        case "text":
            LoggingSystem.bootstrap { label in
                var handler = StreamLogHandler.standardError(label: label)
                handler.logLevel = chosen
                return handler
            }
        case "json":
            LoggingSystem.bootstrap { label in
                var handler = JSONLogHandler(label: label)
                handler.logLevel = chosen
                return handler
            }
        default:
            throw CommandFailure.error("unknown log format \"\(logFormat ?? format)\" (text, json)")
        }
        return Logger(label: "keyway")
    }
}
