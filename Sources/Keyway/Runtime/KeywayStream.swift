import KeywayCore
import KeywayCrypto
import NIOCore

/// One reliable, ordered, encrypted byte stream to a peer, in both directions: what
/// ``KeywayNode/connect(to:at:timeout:)`` returns and ``KeywayNode/incomingStreams()`` yields.
///
/// It survives the peer's address changes (the session rebinds underneath) with no byte lost,
/// duplicated or reordered. Backpressure works both ways: ``write(_:)`` returns only once the
/// transport has buffered the bytes (its send buffer is bounded by
/// ``TransportConfiguration/streamSendBufferLimit``), and the peer may send only as much as the
/// stream's receive window beyond what ``read(maximumCount:)`` has taken, so a slow reader slows
/// the writer down instead of filling memory.
///
/// One reader and one writer may use a stream at the same time (from different tasks); two
/// concurrent reads, or two concurrent writes, fail with ``KeywayStreamError/busy``.
/// Dropping the last reference resets the stream unless both directions are done.
public final class KeywayStream: Sendable {
    /// The stream's name: the peer's key and this node's number for it.
    public let id: StreamID
    private let engine: NIOLoopBound<NodeEngine>

    /// The peer at the other end.
    public var peer: Ed25519.PublicKey { id.peer }

    init(id: StreamID, engine: NIOLoopBound<NodeEngine>) {
        self.id = id
        self.engine = engine
    }

    deinit {
        let engine = self.engine
        let id = self.id
        engine.eventLoop.execute { engine.value.releaseStream(id) }
    }

    /// The next bytes of the stream, at most `maximumCount` (at least 1), waiting until some
    /// arrive; `nil` once the peer finished its side and everything was read.
    /// Throws ``KeywayStreamError`` when the stream was reset or the node stopped.
    public func read(maximumCount: Int = 65536) async throws -> [UInt8]? {
        let engine = self.engine
        let id = self.id
        let limit = max(1, maximumCount)
        return try await engine.eventLoop.flatSubmit { engine.value.read(id, maximumCount: limit) }.get()
    }

    /// Writes `bytes`, returning once the transport has taken them all into its send buffer
    /// (not once the peer has them: see ``finish()``).
    public func write(_ bytes: [UInt8]) async throws {
        guard !bytes.isEmpty else { return }
        let engine = self.engine
        let id = self.id
        try await engine.eventLoop.flatSubmit { engine.value.write(bytes, to: id) }.get()
    }

    /// Ends this side of the stream after the bytes written, and returns once the peer has
    /// acknowledged all of them and the end.
    public func finish() async throws {
        let engine = self.engine
        let id = self.id
        try await engine.eventLoop.flatSubmit { engine.value.finish(id) }.get()
    }

    /// Aborts the stream in both directions, telling the peer `code`. Bytes not yet delivered
    /// are lost. Waiting reads and writes fail with ``KeywayStreamError/resetLocally``.
    public func reset(code: UInt64 = 0) async {
        let engine = self.engine
        let id = self.id
        try? await engine.eventLoop.submit { engine.value.resetStream(id, code: code) }.get()
    }
}
