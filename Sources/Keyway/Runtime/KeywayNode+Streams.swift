import KeywayCore
import KeywayCrypto
import NIOCore

/// Streams addressed by key: the encrypted transport on the node's socket.
extension KeywayNode {
    /// The longest ``connect(to:at:timeout:)`` waits by default: a DHT lookup, a handshake and
    /// a few retries on a loaded network.
    public static let defaultConnectTimeout: Duration = .seconds(10)

    /// Opens a stream to the node whose key is `key`.
    ///
    /// The node dials `endpoints` when given (a peer's known address, or one reached through a
    /// relay); otherwise it resolves the key's endpoint record in the DHT first (waiting for the
    /// seeds' first answer if the node is still joining). It returns once the Noise handshake is
    /// done and the session is established, reusing an existing session with `key`. The peer
    /// learns of the stream when its first bytes (or its end) arrive.
    ///
    /// Throws ``KeywayStreamError/notFound(key:)`` when no record was found,
    /// ``KeywayStreamError/timedOut(key:after:)`` when no session was established within
    /// `timeout` (a peer that refuses this node's key, or holds another mesh secret, stays
    /// silent), ``KeywayStreamError/unreachable(key:)`` and ``KeywayStreamError/stopped``.
    public func connect(
        to key: Ed25519.PublicKey, at endpoints: [Endpoint] = [], timeout: Duration = KeywayNode.defaultConnectTimeout
    ) async throws -> KeywayStream {
        let engine = self.engine
        return try await engine.eventLoop.flatSubmit { engine.value.connect(to: key, at: endpoints, timeout: timeout) }.get()
    }

    /// The streams peers open to this node, in the order they arrive, until the node stops.
    ///
    /// One consumer at a time: each call gives a new sequence and ends the previous one. Streams
    /// that arrive while no sequence is open, or while
    /// ``KeywayNodeConfiguration/incomingStreamBacklog`` streams wait unaccepted, are refused
    /// (reset). Which keys may open sessions at all is ``TransportConfiguration/peerPolicy``.
    public func incomingStreams() async -> AsyncStream<KeywayStream> {
        let engine = self.engine
        return (try? await engine.eventLoop.submit { engine.value.acceptStreams() }.get()) ?? AsyncStream { $0.finish() }
    }

    /// The transport's counters: datagrams, handshakes, rebinds, losses, drops by cause.
    public func transportStatistics() async throws -> TransportStatistics {
        let engine = self.engine
        return try await engine.eventLoop.submit { engine.value.core.transport.statistics }.get()
    }

    /// The endpoint the session with `peer` sends to now, if there is a session.
    public func sessionEndpoint(of peer: Ed25519.PublicKey) async throws -> Endpoint? {
        let engine = self.engine
        return try await engine.eventLoop.submit { engine.value.core.transport.endpoint(of: peer) }.get()
    }
}
