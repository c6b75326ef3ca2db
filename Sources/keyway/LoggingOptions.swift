import ArgumentParser
import Logging

/// `--log-level`, and the setup of swift-log to standard error.
struct LoggingOptions: ParsableArguments {
    /// The environment variable read when `--log-level` is not given.
    static let environmentVariable = "KEYWAY_LOG_LEVEL"

    @Option(name: .long, help: ArgumentHelp(
        "Log level on stderr: trace, debug, info, notice, warning, error or critical (default: $KEYWAY_LOG_LEVEL, else info for run, error for resolve, critical for demo).",
        valueName: "level"))
    var logLevel: String?

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
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = chosen
            return handler
        }
        return Logger(label: "keyway")
    }
}
