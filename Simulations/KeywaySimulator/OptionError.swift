/// An option value the simulator cannot use; `message` is one line for a human.
public struct OptionError: Error, Equatable, CustomStringConvertible, Sendable {
    /// What is wrong, naming the option and the accepted forms.
    public let message: String

    /// An error with its one-line message.
    public init(_ message: String) { self.message = message }

    /// The message.
    public var description: String { message }
}
