import Collections

/// How an ``EndpointPublisher`` keeps the node's endpoint record published.
public struct PublisherConfiguration: Sendable, Equatable {
    /// Publish by itself: at start (a lone seed, or a node restored from saved contacts), when
    /// the DHT reports it has joined (``DHTEvent/bootstrapped(contacts:)``), and whenever the
    /// set of reachable endpoints changes. Off: only ``EndpointPublisher/publish(dht:now:)``
    /// publishes (the replication check still re-puts what was published).
    public var publishAutomatically = true
    /// Endpoints published before the ones the node finds itself (a port forward, a public
    /// address), most preferred first.
    public var announce: [Endpoint] = []
    /// How often the publisher checks that its record is stored on as many nodes as it could be
    /// (the replication factor, or all it knows and itself when it knows fewer) and re-puts it
    /// when not: a seed that published alone gets its record onto the nodes that joined since.
    public var replicationCheckInterval: Duration = .seconds(10)
    /// Limits of endpoint records: the published endpoint set is cut at
    /// ``EndpointRecordLimits/maximumEndpoints``, and resolved records are decoded within them.
    public var recordLimits = EndpointRecordLimits()
    /// The wall-clock time (since 1970) at ``Instant/zero``: a record's `seq` is its publish time
    /// in microseconds (pkarr), which the core, having no clock, computes as this plus `now`.
    /// The DHT keeps `seq` strictly increasing whatever this is.
    public var wallClockAtOrigin: Duration = .zero
    /// Former endpoints of the socket remembered, most recent kept: a confirmed external
    /// endpoint among them is not published (see ``EndpointPublisher``). Only this node's own
    /// socket changes add to them, never a peer; 16 covers a host's interfaces over several moves.
    public var maximumRetiredEndpoints = 16

    /// Every default.
    public init() {}
}

/// Why the publisher puts the record.
public enum PublishReason: Sendable, Equatable {
    /// The node started with someone to publish to (restored contacts) or alone (a seed).
    case start
    /// The node has joined the DHT.
    case bootstrapped
    /// The reachable endpoint set changed.
    case endpointsChanged
    /// The record is on fewer nodes than it could be and the routing table has grown.
    case underReplicated(storedOn: Int, known: Int)
    /// The caller asked (``EndpointPublisher/publish(dht:now:)``).
    case requested
}

/// Why ``EndpointPublisher/publish(dht:now:)`` could not publish.
public enum PublishError: Error, Sendable, Equatable {
    /// No usable endpoint: nothing to publish.
    case nothingToPublish
    /// The endpoints do not make a valid record.
    case invalidRecord(EndpointRecordError)
}

/// What an ``EndpointPublisher`` reports.
public enum PublisherEvent: Sendable, Equatable {
    /// The endpoints the node publishes (or would publish) changed; the node's peers should hear
    /// from the new address (``SessionManager/localAddressChanged(now:)``).
    case reachableEndpointsChanged([Endpoint])
    /// A put of the record started: a new record (`newSequence`), or the current one again.
    case putStarted(EndpointRecord, reason: PublishReason, newSequence: Bool)
    /// A put of the current record finished, stored on `storedOn` nodes.
    case published(EndpointRecord, storedOn: Int)
    /// It was time to publish, but there is no usable endpoint (an `--announce` would help).
    case nothingToPublish(reason: PublishReason)
    /// It was time to publish, but the endpoints do not make a valid record.
    case cannotPublish(reason: PublishReason, EndpointRecordError)
}

/// Publishing what is reachable: the endpoint set, when to publish it and put it again, and
/// keeping it replicated. A pure value type driven like the rest of the core: inputs are the
/// socket (``LocalSocket``), the DHT's events and `now`; outputs are puts on the ``DHTNode`` it
/// is handed and ``PublisherEvent``s; its only timer is the replication check
/// (``nextTimeout()``).
///
/// It decides:
/// - **the endpoint set** (``ReachableEndpoints``): announced, then the confirmed external
///   endpoint (``DHTNode/confirmedExternalEndpoint``), then the socket's own;
/// - **when to publish a new record** (a new `seq`): at ``start(socket:publishAtOnce:dht:now:)``
///   when asked to, at ``DHTEvent/bootstrapped(contacts:)``, and whenever the set changes (the
///   socket's interfaces, or ``DHTEvent/externalEndpointChanged(_:)`` /
///   ``DHTEvent/externalEndpointConfirmed(_:evidence:)``); when the set equals the published
///   record's, it puts the same record again instead (stores only extend its life);
/// - **the replication check**: every ``PublisherConfiguration/replicationCheckInterval``, with
///   no put of its own in flight, it puts the record again when it is stored on fewer than
///   `min(replicationFactor, known + 1)` nodes and the routing table has grown since the last
///   put (so dead contacts do not cause a put every time).
///
/// A confirmed external endpoint that was one of the socket's own endpoints and no longer is
/// (the node moved: its interface address is gone) is left out: its evidence was the address
/// itself, and the DHT keeps believing it until a quorum of peers reports the new one, so the
/// record would otherwise lead with an endpoint where the node cannot be.
///
/// Periodic republishing (``DHTConfiguration/republishInterval``) stays with the DHT.
public struct EndpointPublisher: Sendable {
    /// Its configuration.
    public let configuration: PublisherConfiguration
    /// The socket, once started.
    public private(set) var socket: LocalSocket?
    /// The endpoints to publish now, most preferred first.
    public private(set) var reachable: [Endpoint] = []
    /// Nodes the current record was last stored on (`nil`: its put has not finished yet).
    public private(set) var storedOn: Int?
    /// When the replication check runs next (`nil` before ``start(socket:publishAtOnce:dht:now:)``).
    public private(set) var nextReplicationCheck: Instant?
    /// Puts of our own record in flight (bounded: each ends with ``DHTEvent/itemPublished(_:target:sequence:storedOn:statistics:)``).
    private var ownPuts: Set<OperationID> = []
    /// Routing table size when the record was last put.
    private var tableSizeAtLastPut = 0
    /// Endpoints the socket had and no longer has, oldest first (at most
    /// ``PublisherConfiguration/maximumRetiredEndpoints``).
    private var retired: [Endpoint] = []
    private var events = Deque<PublisherEvent>()

    /// A publisher that does nothing until ``start(socket:publishAtOnce:dht:now:)``.
    public init(configuration: PublisherConfiguration = PublisherConfiguration()) {
        self.configuration = configuration
    }

    /// Whether ``start(socket:publishAtOnce:dht:now:)`` was called.
    public var isStarted: Bool { socket != nil }

    /// When ``handleTimeout(dht:now:)`` must next be called.
    public func nextTimeout() -> Instant? { nextReplicationCheck }

    /// The next event, if any.
    public mutating func pollEvent() -> PublisherEvent? { events.popFirst() }

    /// Starts publishing for `socket`: tells the DHT the socket's own endpoints, computes the
    /// endpoint set, publishes at once when `publishAtOnce` (and publishing is automatic), and
    /// arms the replication check.
    public mutating func start(socket: LocalSocket, publishAtOnce: Bool, dht: inout DHTNode, now: Instant) {
        self.socket = socket
        dht.setLocalEndpoints(socket.endpoints)
        reachable = endpoints(dht: dht)
        nextReplicationCheck = now + configuration.replicationCheckInterval
        if publishAtOnce && configuration.publishAutomatically { publishAutomatically(.start, dht: &dht, now: now) }
    }

    /// The socket changed (new interface addresses, or the node was moved): a new endpoint set is
    /// published at once. Ignored before ``start(socket:publishAtOnce:dht:now:)``.
    public mutating func updateSocket(_ socket: LocalSocket, dht: inout DHTNode, now: Instant) {
        guard let old = self.socket, socket != old else { return }
        let current = Set(socket.endpoints)
        retired.removeAll { current.contains($0) }
        for endpoint in old.endpoints where !current.contains(endpoint) && !retired.contains(endpoint) { retired.append(endpoint) }
        retired.removeFirst(max(0, retired.count - max(0, configuration.maximumRetiredEndpoints)))
        self.socket = socket
        dht.setLocalEndpoints(socket.endpoints)
        reachableMayHaveChanged(dht: &dht, now: now)
    }

    /// Looks at one event of `dht` (every event it reports must be handed in, in order).
    public mutating func handle(_ event: DHTEvent, dht: inout DHTNode, now: Instant) {
        guard isStarted else { return }
        switch event {
        case .bootstrapped:
            if configuration.publishAutomatically { publishAutomatically(.bootstrapped, dht: &dht, now: now) }
        case let .itemPublished(operation, target, sequence, count, _):
            guard target == dht.id else { return }
            ownPuts.remove(operation)
            // A put of a record since superseded says nothing about the current one.
            guard let record = dht.publishedRecord, record.timestampMicroseconds == sequence else { return }
            storedOn = count
            events.append(.published(record, storedOn: count))
        case .externalEndpointChanged, .externalEndpointConfirmed:
            // Not published until confirmed; a confirmed endpoint before it leaves the record.
            reachableMayHaveChanged(dht: &dht, now: now)
        case .seedsUnreachable, .seedKeyMismatch, .itemResolved, .natClassChanged:
            break
        }
    }

    /// Runs the replication check when it is due (an early call does nothing).
    public mutating func handleTimeout(dht: inout DHTNode, now: Instant) {
        guard let due = nextReplicationCheck, due <= now else { return }
        nextReplicationCheck = now + configuration.replicationCheckInterval
        guard ownPuts.isEmpty, let stored = storedOn, let record = dht.publishedRecord else { return }
        let known = dht.routingTable.count
        guard known > tableSizeAtLastPut, stored < min(dht.configuration.replicationFactor, known + 1) else { return }
        putAgain(record, reason: .underReplicated(storedOn: stored, known: known), dht: &dht, now: now)
    }

    /// Publishes a record of the current endpoints with a new `seq`, whatever the policy: the
    /// caller waits for the ``DHTEvent/itemPublished(_:target:sequence:storedOn:statistics:)``
    /// of the returned operation.
    public mutating func publish(dht: inout DHTNode, now: Instant) throws(PublishError) -> (OperationID, EndpointRecord) {
        guard !reachable.isEmpty else { throw .nothingToPublish }
        do {
            return try publishNew(.requested, dht: &dht, now: now)
        } catch {
            throw .invalidRecord(error)
        }
    }

    /// The record's `seq` for a publish at `now`: ``PublisherConfiguration/wallClockAtOrigin``
    /// plus `now`, in microseconds (saturating).
    public func wallClockMicroseconds(at now: Instant) -> Int64 {
        let origin = configuration.wallClockAtOrigin.nanosecondsClamped / 1_000
        let elapsed = Int64(clamping: now.nanoseconds / 1_000)
        let (sum, overflow) = origin.addingReportingOverflow(elapsed)
        return overflow ? .max : sum
    }

    // MARK: Internals

    private func endpoints(dht: DHTNode) -> [Endpoint] {
        guard let socket else { return [] }
        let external = dht.confirmedExternalEndpoint.flatMap { retired.contains($0) ? nil : $0 }
        return ReachableEndpoints(
            socket: socket, external: external, announced: configuration.announce,
            limit: configuration.recordLimits.maximumEndpoints
        ).endpoints
    }

    /// Recomputes the endpoint set; when it changed, says so and publishes a newer record.
    private mutating func reachableMayHaveChanged(dht: inout DHTNode, now: Instant) {
        let current = endpoints(dht: dht)
        guard current != reachable else { return }
        reachable = current
        events.append(.reachableEndpointsChanged(current))
        if configuration.publishAutomatically { publishAutomatically(.endpointsChanged, dht: &dht, now: now) }
    }

    /// Publishes a new record when the endpoint set differs from the published one, and puts
    /// the current record again otherwise (same `seq`: stores just extend its life).
    private mutating func publishAutomatically(_ reason: PublishReason, dht: inout DHTNode, now: Instant) {
        guard !reachable.isEmpty else {
            events.append(.nothingToPublish(reason: reason))
            return
        }
        if let record = dht.publishedRecord, record.endpoints == reachable {
            putAgain(record, reason: reason, dht: &dht, now: now)
            return
        }
        do {
            _ = try publishNew(reason, dht: &dht, now: now)
        } catch {
            events.append(.cannotPublish(reason: reason, error))
        }
    }

    private mutating func publishNew(_ reason: PublishReason, dht: inout DHTNode, now: Instant) throws(EndpointRecordError) -> (OperationID, EndpointRecord) {
        let (operation, record) = try dht.publishRecord(endpoints: reachable, wallClockMicroseconds: wallClockMicroseconds(at: now), now: now)
        ownPuts.insert(operation)
        storedOn = nil
        tableSizeAtLastPut = dht.routingTable.count
        events.append(.putStarted(record, reason: reason, newSequence: true))
        return (operation, record)
    }

    private mutating func putAgain(_ record: EndpointRecord, reason: PublishReason, dht: inout DHTNode, now: Instant) {
        let operation = dht.putItem(record.signed(by: dht.keyPair), now: now)
        ownPuts.insert(operation)
        tableSizeAtLastPut = dht.routingTable.count
        events.append(.putStarted(record, reason: reason, newSequence: false))
    }
}
