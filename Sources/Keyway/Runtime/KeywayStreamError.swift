import KeywayCore

/// Why an operation on a ``KeywayStream`` or ``KeywayNode/connect(to:at:timeout:)`` failed;
/// the description is one line.
public enum KeywayStreamError: Error, Equatable, Sendable, CustomStringConvertible {
    /// No endpoint record of the key was found in the DHT within the timeout.
    case notFound(key: String)
    /// No session with the key was established within the timeout (the peer does not answer,
    /// refuses this node's key, or has another mesh secret).
    case timedOut(key: String, after: Duration)
    /// The peer did not answer for ``TransportConfiguration/handshakeGiveUpAfter``.
    case unreachable(key: String)
    /// The stream was aborted by the peer or the transport.
    case reset(StreamResetReason)
    /// This side reset the stream.
    case resetLocally
    /// The stream's sending side was already finished.
    case finished
    /// Another read (or write) on the same stream is still waiting; a stream takes one reader
    /// and one writer at a time.
    case busy
    /// The node has stopped.
    case stopped

    /// One line naming the problem.
    public var description: String {
        switch self {
        case let .notFound(key): return "no endpoint record of \(key) found"
        case let .timedOut(key, after): return "no session with \(key) within \(after)"
        case let .unreachable(key): return "\(key) is unreachable"
        case let .reset(reason): return "the stream was reset (\(reason))"
        case .resetLocally: return "the stream was reset by this side"
        case .finished: return "the stream's sending side is finished"
        case .busy: return "another read or write on this stream is still waiting"
        case .stopped: return "the node has stopped"
        }
    }
}
