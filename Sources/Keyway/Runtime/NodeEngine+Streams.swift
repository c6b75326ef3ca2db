import Collections
import KeywayCore
import KeywayCrypto
import NIOCore

/// What the engine keeps for one stream the application holds (or is about to be handed).
struct StreamState {
    /// Bytes received and not yet read, in order.
    var chunks = Deque<[UInt8]>()
    /// Bytes in ``chunks``.
    var buffered = 0
    /// The peer finished its side (after the bytes in ``chunks``).
    var finished = false
    /// The stream was aborted: by the peer or the transport (a reason), or by this side.
    var reset: KeywayStreamError?
    /// This side finished its sending side.
    var finishedLocally = false
    /// Everything written, the end included, was acknowledged.
    var sendComplete = false
    /// A read waiting for bytes.
    var reader: (promise: EventLoopPromise<[UInt8]?>, maximumCount: Int)?
    /// A write waiting for room in the send buffer: the bytes and how many were taken.
    var writer: (bytes: [UInt8], taken: Int, promise: EventLoopPromise<Void>)?
    /// ``KeywayStream/finish()`` calls waiting for the acknowledgement of the end.
    var finishWaiters: [EventLoopPromise<Void>] = []

    /// Whether both directions are over, so nothing is lost when the stream is forgotten.
    var isDone: Bool { reset != nil || (finished && chunks.isEmpty && sendComplete) }
}

/// The engine's transport state: streams the application holds, connects in progress, the
/// acceptor of incoming streams.
struct EngineStreams {
    var streams: [StreamID: StreamState] = [:]
    /// Connects waiting for a session with a key.
    var connectWaiters: [Ed25519.PublicKey: [(ticket: UInt64, promise: EventLoopPromise<Void>)]] = [:]
    /// Where incoming streams go; `nil`: they are refused.
    var acceptor: AsyncStream<KeywayStream>.Continuation?
    /// Stream bytes the transport took from the application's writes, since the start.
    var bytesWritten = 0
    /// Stream bytes the transport delivered in order, since the start.
    var bytesDelivered = 0
}

/// Streams: connecting by key, accepting, reading and writing with backpressure, and the
/// transport's events.
extension NodeEngine {
    /// The engine as a loop-bound reference, for stream handles.
    private var bound: NIOLoopBound<NodeEngine> { NIOLoopBound(self, eventLoop: eventLoop) }

    // MARK: Connecting

    /// A new stream to `key`: at `endpoints` when given, else where the DHT says; once the
    /// session is established within `timeout`.
    func connect(to key: Ed25519.PublicKey, at endpoints: [Endpoint], timeout: Duration) -> EventLoopFuture<KeywayStream> {
        guard running else { return eventLoop.makeFailedFuture(KeywayStreamError.stopped) }
        let deadline = clock.now() + timeout
        let session: EventLoopFuture<Void>
        if core.transport.isEstablished(with: key) {
            session = eventLoop.makeSucceededVoidFuture()
        } else if !endpoints.isEmpty || core.transport.endpoint(of: key) != nil {
            session = establish(key, at: endpoints, timeout: timeout)
        } else {
            // Resolve through the runtime (it waits for the seeds' first answer), looking again
            // while no record is found within the timeout, then dial.
            session = resolveRecord(key, deadline: deadline, retryIn: configuration.connectLookupRetryInterval)
                .assumeIsolated().flatMap { [self] record in
                guard let record else {
                    return eventLoop.makeFailedFuture(KeywayStreamError.notFound(key: key.zBase32))
                }
                let now = clock.now()
                return establish(key, record: record, timeout: deadline > now ? deadline - now : .zero, now: now)
            }.nonisolated()
        }
        return session.assumeIsolated().flatMapThrowing { [self] in
            guard running else { throw KeywayStreamError.stopped }
            let id = core.openStream(to: key, now: clock.now())
            streams.streams[id] = StreamState()
            drain(flush: true)
            return KeywayStream(id: id, engine: bound)
        }.nonisolated()
    }

    /// The newest valid endpoint record of `key`, looked up again while none is found: after
    /// `delay`, doubled each time up to ``KeywayNodeConfiguration/connectLookupRetryLimit``,
    /// until `deadline`. A peer that publishes a moment after the connect started (a listener
    /// and its client started together) is found instead of failing the connect at once; `nil`
    /// once the deadline leaves no room for another look.
    private func resolveRecord(_ key: Ed25519.PublicKey, deadline: Instant, retryIn delay: Duration) -> EventLoopFuture<EndpointRecord?> {
        let remaining = deadline > clock.now() ? deadline - clock.now() : .zero
        return resolve(key, timeout: remaining).assumeIsolated().flatMap { [self] item -> EventLoopFuture<EndpointRecord?> in
            if let record = core.endpointRecord(in: item, of: key) {
                return eventLoop.makeSucceededFuture(record)
            }
            guard running, delay > .zero, clock.now() + delay < deadline else { return eventLoop.makeSucceededFuture(nil) }
            logger.debug("no endpoint record yet; looking again", metadata: ["peer": "\(key.zBase32.prefix(8))", "in": "\(delay)"])
            let next = min(delay * 2, max(delay, configuration.connectLookupRetryLimit))
            return eventLoop.assumeIsolated().scheduleTask(in: TimeAmount(delay)) {}.futureResult
                .assumeIsolated().flatMap { [self] in resolveRecord(key, deadline: deadline, retryIn: next) }.nonisolated()
        }.nonisolated()
    }

    /// Starts (or joins) the handshake with `key` at `endpoints`, or at those of its resolved
    /// `record`; the future completes once keys are confirmed.
    private func establish(
        _ key: Ed25519.PublicKey, at endpoints: [Endpoint] = [], record: EndpointRecord? = nil, timeout: Duration, now: Instant? = nil
    ) -> EventLoopFuture<Void> {
        let promise = eventLoop.makePromise(of: Void.self)
        nextTicket += 1
        let ticket = nextTicket
        streams.connectWaiters[key, default: []].append((ticket, promise))
        let timer = eventLoop.assumeIsolated().scheduleTask(in: TimeAmount(timeout)) { [self] in
            streams.connectWaiters[key]?.removeAll { $0.ticket == ticket }
            if streams.connectWaiters[key]?.isEmpty == true { streams.connectWaiters.removeValue(forKey: key) }
            promise.fail(KeywayStreamError.timedOut(key: key.zBase32, after: timeout))
        }
        promise.futureResult.whenComplete { _ in timer.cancel() }
        let now = now ?? clock.now()
        if let record {
            core.connect(to: key, record: record, now: now)
        } else {
            core.connect(to: key, at: endpoints, now: now)
        }
        if core.transport.isEstablished(with: key) { completeConnects(key, with: nil) }
        drain(flush: true)
        return promise.futureResult
    }

    private func completeConnects(_ key: Ed25519.PublicKey, with error: KeywayStreamError?) {
        for waiter in streams.connectWaiters.removeValue(forKey: key) ?? [] {
            if let error { waiter.promise.fail(error) } else { waiter.promise.succeed(()) }
        }
    }

    // MARK: Accepting

    /// A new sequence of incoming streams, replacing (and ending) the previous one. Streams
    /// that arrive while none is open, or beyond ``KeywayNodeConfiguration/incomingStreamBacklog``
    /// unaccepted ones, are refused.
    func acceptStreams() -> AsyncStream<KeywayStream> {
        let (stream, continuation) = AsyncStream<KeywayStream>.makeStream(
            bufferingPolicy: .bufferingOldest(max(1, configuration.incomingStreamBacklog)))
        guard running else {
            continuation.finish()
            return stream
        }
        streams.acceptor?.finish()
        streams.acceptor = continuation
        return stream
    }

    // MARK: Reading and writing

    /// The next bytes of stream `id` (see ``KeywayStream/read(maximumCount:)``).
    func read(_ id: StreamID, maximumCount: Int) -> EventLoopFuture<[UInt8]?> {
        guard running else { return eventLoop.makeFailedFuture(KeywayStreamError.stopped) }
        guard var state = streams.streams[id] else { return eventLoop.makeFailedFuture(KeywayStreamError.stopped) }
        if !state.chunks.isEmpty {
            let bytes = take(&state, maximumCount: maximumCount)
            streams.streams[id] = state
            consumed(id, count: bytes.count)
            drain(flush: true)
            return eventLoop.makeSucceededFuture(bytes)
        }
        if let reset = state.reset { return eventLoop.makeFailedFuture(reset) }
        if state.finished { return eventLoop.makeSucceededFuture(nil) }
        guard state.reader == nil else { return eventLoop.makeFailedFuture(KeywayStreamError.busy) }
        let promise = eventLoop.makePromise(of: [UInt8]?.self)
        streams.streams[id]!.reader = (promise, maximumCount)
        return promise.futureResult
    }

    /// Takes up to `maximumCount` buffered bytes, in order.
    private func take(_ state: inout StreamState, maximumCount: Int) -> [UInt8] {
        if let first = state.chunks.first, first.count >= maximumCount || state.chunks.count == 1 {
            if first.count <= maximumCount {
                state.chunks.removeFirst()
                state.buffered -= first.count
                return first
            }
            state.chunks[0] = Array(first[maximumCount...])
            state.buffered -= maximumCount
            return Array(first[..<maximumCount])
        }
        var out = [UInt8]()
        out.reserveCapacity(min(maximumCount, state.buffered))
        while let chunk = state.chunks.first, out.count < maximumCount {
            let room = maximumCount - out.count
            if chunk.count <= room {
                out += chunk
                state.chunks.removeFirst()
            } else {
                out += chunk[..<room]
                state.chunks[0] = Array(chunk[room...])
            }
        }
        state.buffered -= out.count
        return out
    }

    /// The application took `count` bytes of `id`: their flow-control credit goes back to the
    /// peer. The caller drains (or is inside a drain).
    private func consumed(_ id: StreamID, count: Int) {
        let now = clock.now()
        core.withTransport(now: now) { $0.consumed(id, count: count, now: now) }
    }

    /// Writes `bytes` on `id`; completes once the transport has taken them all.
    func write(_ bytes: [UInt8], to id: StreamID) -> EventLoopFuture<Void> {
        guard running else { return eventLoop.makeFailedFuture(KeywayStreamError.stopped) }
        guard let state = streams.streams[id] else { return eventLoop.makeFailedFuture(KeywayStreamError.stopped) }
        if let reset = state.reset { return eventLoop.makeFailedFuture(reset) }
        if state.finishedLocally { return eventLoop.makeFailedFuture(KeywayStreamError.finished) }
        guard state.writer == nil else { return eventLoop.makeFailedFuture(KeywayStreamError.busy) }
        let taken = core.write(bytes, to: id, now: clock.now())
        streams.bytesWritten += taken
        drain(flush: true)
        if taken == bytes.count { return eventLoop.makeSucceededVoidFuture() }
        if let reset = streams.streams[id]?.reset { return eventLoop.makeFailedFuture(reset) }
        let promise = eventLoop.makePromise(of: Void.self)
        streams.streams[id]?.writer = (bytes, taken, promise)
        return promise.futureResult
    }

    /// Writes more of a waiting write, now that the send buffer has room.
    private func resumeWrite(_ id: StreamID) {
        guard let writer = streams.streams[id]?.writer else { return }
        let taken = core.write(writer.bytes[writer.taken...], to: id, now: clock.now())
        streams.bytesWritten += taken
        if writer.taken + taken == writer.bytes.count {
            streams.streams[id]?.writer = nil
            writer.promise.succeed(())
        } else {
            streams.streams[id]?.writer?.taken += taken
        }
    }

    /// Ends the sending side of `id`; completes once the peer acknowledged everything.
    func finish(_ id: StreamID) -> EventLoopFuture<Void> {
        guard running else { return eventLoop.makeFailedFuture(KeywayStreamError.stopped) }
        guard let state = streams.streams[id] else { return eventLoop.makeFailedFuture(KeywayStreamError.stopped) }
        if let reset = state.reset { return eventLoop.makeFailedFuture(reset) }
        if state.sendComplete { return eventLoop.makeSucceededVoidFuture() }
        guard state.writer == nil else { return eventLoop.makeFailedFuture(KeywayStreamError.busy) }
        let promise = eventLoop.makePromise(of: Void.self)
        streams.streams[id]!.finishWaiters.append(promise)
        if !state.finishedLocally {
            streams.streams[id]!.finishedLocally = true
            let now = clock.now()
            core.withTransport(now: now) { $0.finish(id, now: now) }
            drain(flush: true)
        }
        return promise.futureResult
    }

    /// Aborts `id` in both directions.
    func resetStream(_ id: StreamID, code: UInt64) {
        guard running, let state = streams.streams[id], state.reset == nil else { return }
        let now = clock.now()
        core.withTransport(now: now) { $0.reset(id, code: code, now: now) }
        fail(id, with: .resetLocally)
        drain(flush: true)
    }

    /// The application dropped its handle: a stream not done in both directions is reset.
    func releaseStream(_ id: StreamID) {
        guard let state = streams.streams.removeValue(forKey: id) else { return }
        guard running else { return }
        if !state.isDone {
            let now = clock.now()
            core.withTransport(now: now) { $0.reset(id, code: 0, now: now) }
            drain(flush: true)
        }
    }

    /// Marks `id` aborted and fails whoever waits on it.
    private func fail(_ id: StreamID, with error: KeywayStreamError) {
        guard var state = streams.streams[id] else { return }
        state.reset = error
        state.chunks.removeAll()
        state.buffered = 0
        let reader = state.reader
        let writer = state.writer
        let waiters = state.finishWaiters
        state.reader = nil
        state.writer = nil
        state.finishWaiters = []
        streams.streams[id] = state
        reader?.promise.fail(error)
        writer?.promise.fail(error)
        waiters.forEach { $0.fail(error) }
    }

    // MARK: Events

    /// Handles one event of the core, whichever half it came from.
    func handle(_ event: NodeEvent) {
        switch event {
        case let .dht(event):
            switch event {
            case let .itemResolved(_, _, _, statistics): emit(.lookupFinished(.get, duration: statistics.duration))
            case let .itemPublished(_, _, _, _, statistics): emit(.lookupFinished(.put, duration: statistics.duration))
            default: break
            }
            handle(event)
        case let .transport(event): handle(event)
        case let .publisher(event): handle(event)
        case .stopLingerEnded: lingerEnded()
        }
    }

    /// Handles one event of the transport half.
    func handle(_ event: TransportEvent) {
        if case .streamData = event {} else { logger.trace("transport event", metadata: ["event": "\(event)"]) }
        switch event {
        case let .sessionEstablished(peer, endpoint):
            logger.info("session established", metadata: ["peer": "\(peer.zBase32.prefix(8))", "endpoint": "\(endpoint)"])
            emit(.sessionEstablished(peer: peer, endpoint: endpoint))
            completeConnects(peer, with: nil)
        case let .peerRestarted(peer):
            logger.info("peer restarted", metadata: ["peer": "\(peer.zBase32.prefix(8))"])
            emit(.peerRestarted(peer))
        case let .endpointChanged(peer, from, to, reason):
            logger.info("peer moved", metadata: [
                "peer": "\(peer.zBase32.prefix(8))", "from": "\(from.map(\.description) ?? "-")", "to": "\(to)", "reason": "\(reason)",
            ])
            emit(.peerMoved(peer: peer, to: to, reason: reason))
        case let .resolveNeeded(peer):
            logger.debug("resolving an unresponsive peer", metadata: ["peer": "\(peer.zBase32.prefix(8))"])
        case let .peerUnreachable(peer):
            logger.warning("peer unreachable", metadata: ["peer": "\(peer.zBase32.prefix(8))"])
            emit(.peerUnreachable(peer))
            completeConnects(peer, with: .unreachable(key: peer.zBase32))
        case let .peerRefused(peer):
            logger.notice("refused a session", metadata: ["peer": "\(peer.zBase32.prefix(8))"])
            emit(.peerRefused(peer))
        case let .sessionClosed(peer):
            logger.debug("idle session closed", metadata: ["peer": "\(peer.zBase32.prefix(8))"])
        case let .sessionAborted(peer, violation):
            logger.notice("closed a session: the peer broke the protocol", metadata: [
                "peer": "\(peer.zBase32.prefix(8))", "violation": "\(violation)",
            ])
        case let .incomingStream(id):
            accept(id)
        case let .streamData(id, bytes):
            streams.bytesDelivered += bytes.count
            deliver(bytes, to: id)
        case let .streamFinished(id):
            guard var state = streams.streams[id] else { return }
            state.finished = true
            if state.chunks.isEmpty, let reader = state.reader {
                state.reader = nil
                streams.streams[id] = state
                reader.promise.succeed(nil)
            } else {
                streams.streams[id] = state
            }
        case let .streamReset(id, reason):
            fail(id, with: .reset(reason))
        case let .streamWritable(id):
            resumeWrite(id)
        case let .streamSendComplete(id):
            guard var state = streams.streams[id] else { return }
            state.sendComplete = true
            let waiters = state.finishWaiters
            state.finishWaiters = []
            streams.streams[id] = state
            waiters.forEach { $0.succeed(()) }
        }
    }

    /// Hands an incoming stream to the acceptor, or refuses it.
    private func accept(_ id: StreamID) {
        streams.streams[id] = StreamState()
        let handle = KeywayStream(id: id, engine: bound)
        switch streams.acceptor?.yield(handle) {
        case .enqueued:
            return
        default:
            // No acceptor, or its backlog is full: the handle's release resets the stream.
            logger.debug("refused an incoming stream", metadata: ["peer": "\(id.peer.zBase32.prefix(8))"])
        }
    }

    /// In-order bytes of `id`: to a waiting reader at once, else buffered (bounded by the
    /// stream's receive window, which only reads open further).
    private func deliver(_ bytes: [UInt8], to id: StreamID) {
        guard var state = streams.streams[id], state.reset == nil else { return }
        if let reader = state.reader, state.chunks.isEmpty {
            state.reader = nil
            if bytes.count <= reader.maximumCount {
                streams.streams[id] = state
                reader.promise.succeed(bytes)
                consumed(id, count: bytes.count)
                return
            }
            state.chunks.append(Array(bytes[reader.maximumCount...]))
            state.buffered += bytes.count - reader.maximumCount
            streams.streams[id] = state
            reader.promise.succeed(Array(bytes[..<reader.maximumCount]))
            consumed(id, count: reader.maximumCount)
            return
        }
        state.chunks.append(bytes)
        state.buffered += bytes.count
        streams.streams[id] = state
    }

    /// Fails every stream and connect (the node stops) and ends the acceptor.
    func failAllStreams() {
        for id in Array(streams.streams.keys) { fail(id, with: .stopped) }
        for key in Array(streams.connectWaiters.keys) { completeConnects(key, with: .stopped) }
        streams.acceptor?.finish()
        streams.acceptor = nil
    }
}
