import Collections
import KeywayCrypto

/// What a ``KeywayNodeCore`` reports: the events of its two halves and of its publisher.
public enum NodeEvent: Sendable, Equatable {
    /// An event of the DHT half.
    case dht(DHTEvent)
    /// An event of the transport half.
    case transport(TransportEvent)
    /// An event of the publisher (``EndpointPublisher``).
    case publisher(PublisherEvent)
    /// The linger begun by ``KeywayNodeCore/beginStop(quietPeriod:limit:now:)`` is over: the
    /// caller may reset what is still open and close the socket.
    case stopLingerEnded
}

/// The whole pure core of a keyway node: a ``DHTNode`` and a ``SessionManager`` on one UDP
/// socket, driven as one object in the same handle/poll manner as each of them.
///
/// It demultiplexes datagrams by their first byte (`d`, 0x64, is KRPC; 1 to 4 are transport
/// packets) and wires active rebinding: when the transport asks for a peer's endpoints
/// (``TransportEvent/resolveNeeded(_:)``), it resolves the peer's record in the DHT and hands
/// the endpoints of a newer record back to the transport, which rebinds and retries at once.
/// It owns the node's ``EndpointPublisher`` (what to publish and when; its replication check is
/// part of ``nextTimeout()``) and the stop linger (``beginStop(quietPeriod:limit:now:)``), so
/// the shell around it keeps only sockets, the clock and the event loop.
///
/// Contracts: those of ``DHTNode`` and ``SessionManager``. After calling an operation, directly
/// or through ``withDHT(_:)`` / ``withTransport(_:)``, the caller MUST drain ``pollTransmit()``
/// and ``pollEvent()`` and re-arm its timer from ``nextTimeout()``.
public struct KeywayNodeCore: Sendable {
    /// The DHT half.
    public private(set) var dht: DHTNode
    /// The transport half.
    public private(set) var transport: SessionManager
    /// What to publish and when (started by ``start(socket:seeds:contacts:now:)``).
    public private(set) var publisher: EndpointPublisher
    /// Whether the node was started with seeds or contacts to join through (see
    /// ``start(socket:seeds:contacts:now:)``); without, it is alone (a seed).
    public internal(set) var hasBootstrapSources = false
    /// Datagrams that were neither KRPC nor transport packets.
    public private(set) var datagramsUnclaimed = 0

    /// Resolves this core started for the transport, by operation.
    private var resolving: [OperationID: Ed25519.PublicKey] = [:]
    private var events = Deque<NodeEvent>()
    /// The stop linger in progress, and when to look at it again.
    private var linger: (state: StopLinger, checkAt: Instant)?
    /// The instant of the last call that handed one in: transport datagrams are polled after
    /// it, and their destinations are noted at it (``DHTNode/recordTransportSend(to:now:)``).
    private var lastNow: Instant

    /// A node core for `identity`; both halves' randomness derives from `seed` (reproducible:
    /// for simulations and tests).
    public init(
        identity: Ed25519.KeyPair, dhtConfiguration: DHTConfiguration = DHTConfiguration(),
        transportConfiguration: TransportConfiguration = TransportConfiguration(),
        publisherConfiguration: PublisherConfiguration = PublisherConfiguration(), seed: UInt64, now: Instant
    ) {
        var rng = SeededRandom(seed: seed)
        dht = DHTNode(keyPair: identity, configuration: dhtConfiguration, seed: rng.next(), now: now)
        transport = SessionManager(identity: identity, configuration: transportConfiguration, seed: rng.next(), now: now)
        publisher = EndpointPublisher(configuration: publisherConfiguration)
        lastNow = now
    }

    /// A node core for a real node: the DHT's randomness derives from `seed`, the transport's
    /// (ephemeral keys, indices, cookie secrets) from `transportRandom`, which SHOULD be
    /// ``TransportRandom/init(secretSeed:)`` seeded from a secure source.
    public init(
        identity: Ed25519.KeyPair, dhtConfiguration: DHTConfiguration = DHTConfiguration(),
        transportConfiguration: TransportConfiguration = TransportConfiguration(),
        publisherConfiguration: PublisherConfiguration = PublisherConfiguration(), seed: UInt64,
        transportRandom: TransportRandom, now: Instant
    ) {
        dht = DHTNode(keyPair: identity, configuration: dhtConfiguration, seed: seed, now: now)
        transport = SessionManager(identity: identity, configuration: transportConfiguration, random: transportRandom, now: now)
        publisher = EndpointPublisher(configuration: publisherConfiguration)
        lastNow = now
    }

    // MARK: Starting and stopping

    /// Starts the node on its bound `socket`: restores `contacts`, joins through `seeds` and
    /// `contacts` (when there are any), and starts the publisher. A lone seed publishes at once
    /// (on itself), a restored node at once too (through its old contacts); a node with only
    /// seeds publishes once it has joined (``DHTEvent/bootstrapped(contacts:)``).
    public mutating func start(socket: LocalSocket, seeds: [DHTSeed], contacts: [NodeContact], now: Instant) {
        lastNow = max(lastNow, now)
        for contact in contacts { dht.addContact(contact, now: now) }
        hasBootstrapSources = !seeds.isEmpty || !contacts.isEmpty
        if hasBootstrapSources { dht.bootstrap(seeds: seeds, now: now) }
        publisher.start(socket: socket, publishAtOnce: !contacts.isEmpty || !hasBootstrapSources, dht: &dht, now: now)
        route(now: now)
    }

    /// The socket changed under the node (the shell found new interface addresses): the
    /// publisher publishes the new endpoint set and every peer hears from the new address.
    public mutating func updateSocket(_ socket: LocalSocket, now: Instant) {
        lastNow = max(lastNow, now)
        publisher.updateSocket(socket, dht: &dht, now: now)
        route(now: now)
    }

    /// Publishes a record of the current endpoints with a new `seq` (see
    /// ``EndpointPublisher/publish(dht:now:)``); the put ends with the
    /// ``DHTEvent/itemPublished(_:target:sequence:storedOn:statistics:)`` of the operation.
    public mutating func publish(now: Instant) throws(PublishError) -> (OperationID, EndpointRecord) {
        lastNow = max(lastNow, now)
        let result = try publisher.publish(dht: &dht, now: now)
        route(now: now)
        return result
    }

    /// Starts the stop linger (``StopLinger``); ``NodeEvent/stopLingerEnded`` says when it is
    /// over (at once when no session has anything in flight or heard from recently).
    public mutating func beginStop(quietPeriod: Duration, limit: Duration, now: Instant) {
        lastNow = max(lastNow, now)
        let state = StopLinger(quietPeriod: quietPeriod, limit: limit, now: now)
        linger = (state, now)
        checkLinger(now: now)
    }

    private mutating func checkLinger(now: Instant) {
        guard let state = linger?.state, let checkAt = linger?.checkAt, checkAt <= now else { return }
        if let next = state.nextCheck(transport: transport, now: now) {
            linger = (state, next)
        } else {
            linger = nil
            events.append(.stopLingerEnded)
        }
    }

    // MARK: Driving

    /// Handles one UDP datagram from `source`, whichever half it belongs to.
    public mutating func handleDatagram(_ datagram: [UInt8], from source: Endpoint, now: Instant) {
        datagram.withUnsafeBufferPointer { handleDatagram(bytes: $0, from: source, now: now) }
    }

    /// Handles one datagram read in place from the caller's receive buffer: KRPC is parsed
    /// without a copy; a transport packet is copied once for the session layer.
    public mutating func handleDatagram(bytes datagram: UnsafeBufferPointer<UInt8>, from source: Endpoint, now: Instant) {
        lastNow = now
        if datagram.first == UInt8(ascii: "d") {
            dht.handleDatagram(bytes: datagram, from: source, now: now)
        } else if !transport.handleDatagram(Array(datagram), from: source, now: now) {
            datagramsUnclaimed += 1
        } else if let initiator = transport.takeAuthenticatedInitiationSource() {
            // An initiation nothing of ours provoked is evidence that peers can reach us; the
            // DHT half, which knows where we sent recently, decides.
            dht.noteAuthenticatedInitiation(from: initiator, now: now)
        }
        route(now: now)
    }

    /// Fires every timer of both halves whose deadline is at or before `now`.
    public mutating func handleTimeout(now: Instant) {
        lastNow = now
        dht.handleTimeout(now: now)
        transport.handleTimeout(now: now)
        publisher.handleTimeout(dht: &dht, now: now)
        checkLinger(now: now)
        route(now: now)
    }

    /// The next datagram to send, if any (transport first: it carries the application's data).
    public mutating func pollTransmit() -> Datagram? {
        if let datagram = transport.pollTransmit() {
            dht.recordTransportSend(to: datagram.endpoint, now: lastNow)
            return datagram
        }
        return dht.pollTransmit()
    }

    /// The next event, if any.
    public mutating func pollEvent() -> NodeEvent? { events.popFirst() }

    /// When ``handleTimeout(now:)`` must next be called.
    public func nextTimeout() -> Instant? {
        [dht.nextTimeout(), transport.nextTimeout(), publisher.nextTimeout(), linger?.checkAt].compactMap { $0 }.min()
    }

    // MARK: Operations

    /// Runs `body` on the DHT half at `now` (resolve, get, put), then routes events. Publishing
    /// the node's own record is the publisher's (``publish(now:)``).
    public mutating func withDHT<R, Failure: Error>(now: Instant, _ body: (inout DHTNode) throws(Failure) -> R) throws(Failure) -> R {
        lastNow = max(lastNow, now)
        let result = try body(&dht)
        route(now: now)
        return result
    }

    /// Runs `body` on the transport half at `now` (streams, writes), then routes events.
    public mutating func withTransport<R, Failure: Error>(now: Instant, _ body: (inout SessionManager) throws(Failure) -> R) throws(Failure) -> R {
        lastNow = max(lastNow, now)
        let result = try body(&transport)
        route(now: now)
        return result
    }

    /// Starts a session with `peer`, resolving its endpoints in the DHT unless `endpoints`
    /// are given.
    public mutating func connect(to peer: Ed25519.PublicKey, at endpoints: [Endpoint] = [], now: Instant) {
        withTransport(now: now) { $0.connect(to: peer, at: endpoints, now: now) }
    }

    /// Starts a session with `peer` at the endpoints of its `record` (resolved by the caller,
    /// decoded with ``endpointRecord(in:of:)``), which the transport keeps as the peer's newest
    /// (an older record never rebinds it).
    public mutating func connect(to peer: Ed25519.PublicKey, record: EndpointRecord, now: Instant) {
        lastNow = max(lastNow, now)
        transport.connect(to: peer, at: record.endpoints, now: now)
        learn(record, of: peer, now: now)
        route(now: now)
    }

    /// The endpoint record `item` holds for `peer`, decoded within the configured limits
    /// (``PublisherConfiguration/recordLimits``); `nil` when it is none, or another key's.
    public func endpointRecord(in item: MutableItem?, of peer: Ed25519.PublicKey) -> EndpointRecord? {
        guard let item, let record = try? EndpointRecord(item: item, limits: publisher.configuration.recordLimits),
              record.publicKey == peer else { return nil }
        return record
    }

    /// Hands `record`'s endpoints to the transport, which rebinds to a newer record's.
    private mutating func learn(_ record: EndpointRecord, of peer: Ed25519.PublicKey, now: Instant) {
        transport.updateEndpoints(of: peer, to: record.endpoints, sequence: record.timestampMicroseconds, now: now)
    }

    /// Opens a stream to `peer` (see ``SessionManager/openStream(to:now:)``).
    public mutating func openStream(to peer: Ed25519.PublicKey, now: Instant) -> StreamID {
        withTransport(now: now) { $0.openStream(to: peer, now: now) }
    }

    /// Writes on a stream (see ``SessionManager/write(_:to:now:)``).
    @discardableResult
    public mutating func write(_ bytes: some Collection<UInt8>, to stream: StreamID, now: Instant) -> Int {
        withTransport(now: now) { $0.write(bytes, to: stream, now: now) }
    }

    // MARK: Routing

    /// Moves both halves' events to the caller, starting a DHT resolve for each transport
    /// request, handing resolved records back to the transport, showing the DHT's events to
    /// the publisher and telling the transport when the node's own address changed.
    private mutating func route(now: Instant) {
        var progressed = true
        while progressed {
            progressed = false
            while let event = publisher.pollEvent() {
                progressed = true
                if case .reachableEndpointsChanged = event { transport.localAddressChanged(now: now) }
                events.append(.publisher(event))
            }
            while let event = transport.pollEvent() {
                progressed = true
                if case let .resolveNeeded(key) = event, !resolving.values.contains(key) {
                    resolving[dht.resolveRecord(publicKey: key, now: now)] = key
                }
                events.append(.transport(event))
            }
            while let event = dht.pollEvent() {
                progressed = true
                if case let .itemResolved(operation, _, item, _) = event, let key = resolving.removeValue(forKey: operation),
                   let record = endpointRecord(in: item, of: key) {
                    learn(record, of: key, now: now)
                }
                events.append(.dht(event))
                publisher.handle(event, dht: &dht, now: now)
            }
        }
    }
}
