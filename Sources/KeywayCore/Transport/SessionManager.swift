import Collections
import KeywayCrypto

/// The pure, deterministic transport core of one keyway node: encrypted sessions addressed by
/// key, which rebind when a peer's address changes, carrying reliable streams.
///
/// Driven like ``DHTNode``: the caller feeds it datagrams and timeouts with the current
/// ``Instant`` (`handle*`), and polls it for datagrams to send, the next deadline and events
/// (`poll*`). It does no I/O and reads no clock; ephemeral keys, session indices, cookie
/// secrets and jitter come from the seed given at creation.
///
/// Contracts:
/// - After any `handle*` or operation call, the caller MUST drain ``pollTransmit()`` and
///   ``pollEvent()`` and re-arm its timer from ``nextTimeout()``.
/// - The caller MUST call ``handleTimeout(now:)`` when that deadline passes; calling it early
///   is harmless.
/// - `now` MUST never go backwards.
/// - Outside a simulation the seed MUST come from a cryptographically secure source (it
///   determines the ephemeral keys).
/// - Input from the network never traps: a packet that is malformed, unauthenticated,
///   replayed or unwanted is dropped and counted in ``statistics``.
public struct SessionManager: Sendable {
    /// This node's identity: the key peers dial.
    public let identity: Ed25519.KeyPair
    /// The limits this core obeys.
    public let configuration: TransportConfiguration
    /// Counters.
    public internal(set) var statistics = TransportStatistics()

    let limits: StreamConnection.Limits
    /// The identity's X25519 form, computed once for every handshake.
    let noiseStaticKeyPair: NoiseStaticKeyPair
    var rng: TransportRandom
    /// Peers by slot; a freed slot is `nil` until reused.
    var peers: [PeerSession?] = []
    /// Slots by peer key.
    var slots: [Ed25519.PublicKey: Int] = [:]
    var freeSlots: [Int] = []
    /// Slots by the local index of a key set or handshake.
    var indexTable: [UInt32: Int] = [:]
    var outgoing = Deque<Datagram>()
    var events = Deque<TransportEvent>()
    /// The source of the last handshake initiation that authenticated (its Noise message read
    /// and its timestamp new), until ``takeAuthenticatedInitiationSource()``: reachability
    /// evidence for the DHT half (``KeywayNodeCore``).
    var authenticatedInitiationSource: Endpoint?
    var cookies: CookieJar
    var rateLimiter: HandshakeRateLimiter
    /// The timestamp of the last initiation this node sent: the next one is later still,
    /// even if two are sent within a clock tick.
    var lastTimestampSent: HandshakeTimestamp?
    /// The next local stream number.
    var nextStreamNumber: UInt64 = 0
    /// Each peer's earliest deadline (see ``settleTimers()``).
    var deadlines = Heap<DeadlineEntry>()
    /// The last heap token handed out.
    var deadlineSerial: UInt64 = 0
    /// Peers touched by the current operation, whose deadlines are computed again.
    var dirtySlots: [Int] = []
    /// How many times a peer's timers were evaluated (for tests: each operation should touch
    /// only the peers it concerns).
    var timerEvaluations = 0
    /// Sessions peers opened, by the source prefix of their first initiation (local-network
    /// sources are not counted when exempt: ``SessionOrigin/localNetwork``).
    var sessionsByPrefix: [AddressPrefix: Int] = [:]
    /// The latest initiation timestamps of initiators whose sessions are gone (``InitiatorTimestamps``).
    var initiatorTimestamps = InitiatorTimestamps()
    /// Out-of-order stream data all sessions buffer, as charged against
    /// ``TransportConfiguration/reassemblyBudget`` (the sum of the peers' ``PeerSession/reassemblyCharged``).
    var reassemblyCharged: UInt64 = 0
    /// Stream bytes all sessions hold delivered and unconsumed, as charged against
    /// ``TransportConfiguration/receiveBudget`` (the sum of the peers' ``PeerSession/receiveCharged``).
    var receiveCharged: UInt64 = 0
    /// The same per source prefix, for the sessions admitted from one
    /// (``TransportConfiguration/receiveBudgetPerPrefix``); no entry holds 0, so it has at most
    /// one entry per prefix with a session.
    var receiveChargedByPrefix: [AddressPrefix: UInt64] = [:]

    /// A core for `identity`, whose every random choice derives from `seed` (reproducible and
    /// insecure: for simulations and tests; see ``TransportRandom``).
    public init(identity: Ed25519.KeyPair, configuration: TransportConfiguration = TransportConfiguration(), seed: UInt64, now: Instant) {
        self.init(identity: identity, configuration: configuration, random: TransportRandom(seed: seed), now: now)
    }

    /// A core for `identity` whose every random choice comes from `random` (a real node passes
    /// ``TransportRandom/init(secretSeed:)`` with 32 bytes from a secure source).
    public init(identity: Ed25519.KeyPair, configuration: TransportConfiguration = TransportConfiguration(), random: TransportRandom, now: Instant) {
        self.identity = identity
        self.configuration = configuration
        limits = StreamConnection.Limits(configuration)
        noiseStaticKeyPair = NoiseStaticKeyPair(identity: identity)
        var rng = random
        cookies = CookieJar(identity: identity.publicKey, secretLifetime: configuration.cookieSecretLifetime, now: now, rng: &rng)
        rateLimiter = HandshakeRateLimiter(configuration: configuration, now: now)
        self.rng = rng
    }

    // MARK: Polling

    /// The next datagram to send, if any.
    public mutating func pollTransmit() -> Datagram? {
        guard let datagram = outgoing.popFirst() else { return nil }
        statistics.datagramsSent += 1
        statistics.bytesSent += datagram.payload.count
        return datagram
    }

    /// The next event, if any.
    public mutating func pollEvent() -> TransportEvent? { events.popFirst() }

    /// Takes the source of the handshake initiation that last authenticated, if any since the
    /// previous call.
    mutating func takeAuthenticatedInitiationSource() -> Endpoint? {
        defer { authenticatedInitiationSource = nil }
        return authenticatedInitiationSource
    }

    /// When ``handleTimeout(now:)`` must next be called, if any timer is armed.
    /// O(1): the top of the deadline heap.
    public func nextTimeout() -> Instant? { deadlines.min?.at }

    /// The earliest armed timer and its deadline (for logs and tests).
    public func nextTimer() -> (timer: TransportTimer, at: Instant)? {
        guard let top = deadlines.min, let peer = peers[top.slot] else { return nil }
        var best: (timer: TransportTimer, at: Instant)?
        for (timer, at) in timers(of: peer) where best.map({ at < $0.at }) ?? true {
            best = (timer, at)
        }
        return best
    }

    // MARK: Operations

    /// Starts a session with `peer`, reachable at `endpoints` (may be empty: a
    /// ``TransportEvent/resolveNeeded(_:)`` then asks the caller for them). Does nothing more if
    /// a session exists. Completes with ``TransportEvent/sessionEstablished(peer:endpoint:)``.
    public mutating func connect(to peer: Ed25519.PublicKey, at endpoints: [Endpoint], now: Instant) {
        defer { settleTimers() }
        let slot = slot(for: peer, now: now)
        peers[slot]!.dialled = true
        if !endpoints.isEmpty && peers[slot]!.endpoint == nil {
            peers[slot]!.candidates = Array(endpoints.prefix(configuration.maximumEndpointsPerPeer))
            peers[slot]!.endpoint = endpoints[0]
        }
        guard !peers[slot]!.established || peers[slot]!.current == nil else { return }
        peers[slot]!.wanted = true
        if peers[slot]!.initiation == nil { startHandshake(slot: slot, now: now) }
    }

    /// Opens a stream to `peer`, connecting first if needed (see ``connect(to:at:now:)``).
    /// Once the session is up the peer hears of the stream at once, from the MAX_STREAM_DATA
    /// frame with this side's window, whether or not it carries data yet.
    public mutating func openStream(to peer: Ed25519.PublicKey, now: Instant) -> StreamID {
        defer { settleTimers() }
        connect(to: peer, at: [], now: now)
        let slot = slots[peer]!
        let number = nextStreamNumber
        nextStreamNumber += 1
        let id = peers[slot]!.connection.openStream(number: number)
        // The peer learns of the stream now (its window goes out in a MAX_STREAM_DATA frame),
        // not only with its first bytes: a listener accepts a stream that has sent nothing yet.
        flush(slot: slot, now: now)
        return id
    }

    /// Buffers `bytes` on `stream` and sends what the windows allow; returns how many bytes were
    /// accepted. Fewer than given means the send buffer is full: the caller MUST wait for
    /// ``TransportEvent/streamWritable(_:)`` before writing the rest. An unknown, finished or
    /// reset stream accepts nothing.
    @discardableResult
    public mutating func write(_ bytes: some Collection<UInt8>, to stream: StreamID, now: Instant) -> Int {
        defer { settleTimers() }
        guard let slot = slots[stream.peer] else { return 0 }
        let accepted = peers[slot]!.connection.write(bytes, number: stream.number)
        flush(slot: slot, now: now)
        return accepted
    }

    /// Ends this side of `stream` after the bytes written so far (FIN).
    public mutating func finish(_ stream: StreamID, now: Instant) {
        defer { settleTimers() }
        guard let slot = slots[stream.peer] else { return }
        peers[slot]!.connection.finish(number: stream.number)
        flush(slot: slot, now: now)
    }

    /// Aborts `stream` in both directions, telling the peer `code`.
    public mutating func reset(_ stream: StreamID, code: UInt64, now: Instant) {
        defer { settleTimers() }
        guard let slot = slots[stream.peer] else { return }
        peers[slot]!.connection.reset(number: stream.number, code: min(code, TransportSpec.maximumVarint))
        flush(slot: slot, now: now)
    }

    /// The application processed `count` more bytes of `stream`, returning their flow-control
    /// credit to the peer. Only needed when ``TransportConfiguration/creditOnDelivery`` is off.
    public mutating func consumed(_ stream: StreamID, count: Int, now: Instant) {
        defer { settleTimers() }
        guard let slot = slots[stream.peer],
              let offset = peers[slot]!.connection.streams[stream.number]?.consumedOffset else { return }
        peers[slot]!.connection.consume(number: stream.number, upTo: offset + UInt64(count), now: now)
        flush(slot: slot, now: now)
    }

    /// Tells the core where `peer` is now, from a resolved endpoint record with `sequence`
    /// (`nil` when not from a record). An older record than one already applied is ignored.
    /// When the current endpoint is not among `endpoints`, the session rebinds to the first of
    /// them and retries at once: in-flight data and any pending handshake go there now.
    public mutating func updateEndpoints(of peer: Ed25519.PublicKey, to endpoints: [Endpoint], sequence: Int64?, now: Instant) {
        defer { settleTimers() }
        guard let slot = slots[peer], !endpoints.isEmpty else { return }
        if let sequence, let applied = peers[slot]!.recordSequence, sequence <= applied { return }
        if let sequence { peers[slot]!.recordSequence = sequence }
        peers[slot]!.candidates = Array(endpoints.prefix(configuration.maximumEndpointsPerPeer))
        let old = peers[slot]!.endpoint
        if let old, endpoints.contains(old) { return }
        let family = old?.address.isIPv4
        let chosen = endpoints.first(where: { $0.address.isIPv4 == family }) ?? endpoints[0]
        peers[slot]!.endpoint = chosen
        statistics.activeRebinds += 1
        events.append(.endpointChanged(peer: peer, from: old, to: chosen, reason: .record))
        peers[slot]!.connection.pathChanged(statistics: &statistics)
        if peers[slot]!.initiation != nil || peers[slot]!.current == nil {
            startHandshake(slot: slot, now: now)
        }
        flush(slot: slot, now: now)
    }

    /// This node's own address changed (its interfaces or external endpoint did): every peer
    /// with usable keys gets a PING from the new address at once, so it rebinds passively
    /// without waiting for a probe or a resolve (the PING is retransmitted like data).
    public mutating func localAddressChanged(now: Instant) {
        defer { settleTimers() }
        for slot in peers.indices {
            guard let peer = peers[slot], peer.current != nil else { continue }
            peers[slot]!.connection.pingPending = true
            flush(slot: slot, now: now)
        }
    }

    // MARK: Introspection

    /// The endpoint the session with `peer` sends to.
    public func endpoint(of peer: Ed25519.PublicKey) -> Endpoint? {
        slots[peer].flatMap { peers[$0]?.endpoint }
    }

    /// Whether `peer` has confirmed keys to send with.
    public func isEstablished(with peer: Ed25519.PublicKey) -> Bool {
        guard let slot = slots[peer], let peer = peers[slot] else { return false }
        return peer.established && peer.current != nil
    }

    /// The smoothed round-trip time to `peer`, once measured.
    public func smoothedRTT(to peer: Ed25519.PublicKey) -> Duration? {
        guard let slot = slots[peer], let rtt = peers[slot]?.connection.rtt, rtt.hasSample else { return nil }
        return .nanoseconds(rtt.smoothed)
    }

    /// The datagram size the session with `peer` uses now: the configured base, or a larger
    /// one path MTU discovery proved.
    public func datagramSize(to peer: Ed25519.PublicKey) -> Int? {
        guard let slot = slots[peer] else { return nil }
        return peers[slot]?.connection.pathMTU.current
    }

    /// Peers this core holds state for.
    public var peerCount: Int { slots.count }

    /// One line of introspection per peer this core holds state for, in no particular order
    /// (for `keyway status`).
    public var sessionSummaries: [SessionSummary] {
        peers.compactMap { peer in
            guard let peer else { return nil }
            return SessionSummary(
                peer: peer.key, endpoint: peer.endpoint, established: peer.established && peer.current != nil,
                dialled: peer.dialled,
                smoothedRTT: peer.connection.rtt.hasSample ? .nanoseconds(peer.connection.rtt.smoothed) : nil,
                datagramSize: peer.connection.pathMTU.current, lastReceivedAt: peer.lastReceivedAt,
                lastHandshakeAt: peer.current?.createdAt)
        }
    }

    /// Whether some peer still owes an acknowledgement of stream bytes or of a stream's end
    /// this node sent (or such bytes wait to be sent). A stopping node lingers while this holds,
    /// so that a stream it finished is known to be finished at the other end.
    public var hasUnacknowledgedStreamData: Bool {
        peers.contains { peer in
            guard let peer, peer.current != nil || peer.initiation != nil else { return false }
            return peer.connection.packetsInFlight > 0 || peer.connection.hasStreamWork
        }
    }

    /// When the last authenticated packet arrived from any peer (`nil`: none yet). A stopping
    /// node lingers until the peers have been quiet for a while, to acknowledge again a stream
    /// end whose acknowledgement was lost (TCP's TIME-WAIT, bounded).
    public var lastPacketReceivedAt: Instant? {
        peers.lazy.compactMap { $0?.lastReceivedAt }.max()
    }

    // MARK: Slots

    /// The slot of `peer`, made with fresh state when there is none.
    mutating func slot(for peer: Ed25519.PublicKey, now: Instant) -> Int {
        if let slot = slots[peer] { return slot }
        let connection = StreamConnection(local: identity.publicKey, peer: peer, limits: limits)
        let session = PeerSession(key: peer, localStateID: rng.next(), connection: connection, now: now)
        let slot: Int
        if let free = freeSlots.popLast() {
            slot = free
            peers[slot] = session
        } else {
            slot = peers.count
            peers.append(session)
        }
        slots[peer] = slot
        touch(slot)
        return slot
    }

    /// Forgets the peer in `slot`, dropping (and so zeroing) its keys.
    mutating func removePeer(slot: Int) {
        guard let peer = peers[slot] else { return }
        if let timestamp = peer.lastInitiationTimestamp {
            // The replay check outlives the session; its lifetime runs from the session's last
            // activity (at or before now).
            initiatorTimestamps.remember(timestamp, for: peer.key, origin: peer.admittedFrom, now: peer.lastActivity, configuration: configuration)
        }
        reassemblyCharged -= peer.reassemblyCharged
        charge(receive: 0, slot: slot)
        if case let .prefix(prefix)? = peer.admittedFrom {
            sessionsByPrefix[prefix, default: 1] -= 1
            if sessionsByPrefix[prefix] == 0 { sessionsByPrefix.removeValue(forKey: prefix) }
        }
        for index in peer.localIndices { indexTable.removeValue(forKey: index) }
        slots.removeValue(forKey: peer.key)
        peers[slot] = nil
        freeSlots.append(slot)
    }

    /// A fresh random session index no key set or handshake uses.
    mutating func newIndex(slot: Int) -> UInt32 {
        while true {
            let index = UInt32(truncatingIfNeeded: rng.next())
            if indexTable[index] == nil {
                indexTable[index] = slot
                return index
            }
        }
    }

    /// Runs `body` with an output sink for the reliable layer, then takes its output back.
    mutating func withSink<R>(_ body: (inout SessionManager, inout StreamConnection.Sink) -> R) -> R {
        var sink = StreamConnection.Sink(
            events: Deque(), statistics: TransportStatistics(), nextStreamNumber: nextStreamNumber, receivedStreamData: false)
        swap(&sink.events, &events)
        swap(&sink.statistics, &statistics)
        let result = body(&self, &sink)
        swap(&sink.events, &events)
        swap(&sink.statistics, &statistics)
        nextStreamNumber = sink.nextStreamNumber
        return result
    }
}
