/// How a command ends when it does not succeed: the exit status and one line for standard error.
///
/// Statuses: 1 means "not found" (`resolve`) or a failed demo step; 2 means bad input or any
/// other error (a malformed key or address, a port in use, an unreadable identity file).
struct CommandFailure: Error {
    /// The process's exit status.
    var status: Int32
    /// The line printed after `keyway: ` on standard error; `nil` when the command already said it.
    var message: String?

    /// Exit status 1: what was asked for was not found (or a demo step failed).
    static let notFoundStatus: Int32 = 1
    /// Exit status 2: bad input or any other error.
    static let errorStatus: Int32 = 2

    /// Bad input or another error: status 2.
    static func error(_ message: String) -> CommandFailure { CommandFailure(status: errorStatus, message: message) }

    /// Not found: status 1.
    static func notFound(_ message: String) -> CommandFailure { CommandFailure(status: notFoundStatus, message: message) }
}
