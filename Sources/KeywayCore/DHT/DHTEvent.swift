/// What the DHT core reports to its caller through ``DHTNode/pollEvent()``.
public enum DHTEvent: Sendable, Equatable {
    /// The first lookup of our own ID after contacting the seeds has finished: the node is part
    /// of the DHT. `contacts` is the routing table's size at that moment.
    case bootstrapped(contacts: Int)
    /// No seed answered this attempt; the next one starts at `retryAt`.
    case seedsUnreachable(attempt: Int, retryAt: Instant)
    /// A seed given with a key answered with the ID of another key; it was not added.
    case seedKeyMismatch(Endpoint)
    /// A ``DHTNode/getItem(publicKey:salt:now:)`` finished; `item` is the newest valid one found.
    case itemResolved(OperationID, target: NodeID, item: MutableItem?, statistics: LookupStatistics)
    /// A ``DHTNode/putItem(_:now:)`` finished; `storedOn` nodes accepted it (this one included
    /// when it is among the closest).
    case itemPublished(OperationID, target: NodeID, sequence: Int64, storedOn: Int, statistics: LookupStatistics)
    /// Enough peers (``DHTConfiguration/observedAddressQuorum``) agree on this node's endpoint
    /// as they see it (BEP 42 `ip`), and it differs from the one believed before.
    case externalEndpointChanged(Endpoint)
    /// There is now evidence that peers can reach this node at its believed external endpoint
    /// unasked (see ``DHTConfiguration/requireReachabilityEvidence``): from now on it is
    /// ``DHTNode/confirmedExternalEndpoint`` and belongs in the published record. It holds until
    /// the believed endpoint changes (``externalEndpointChanged(_:)``), which starts over.
    case externalEndpointConfirmed(Endpoint, evidence: ReachabilityEvidence)
    /// The NAT classification changed (``NATClass``, see ``DHTNode/natClass``), with the
    /// endpoint peers reach this node at when the class has one (`open`, `eim`).
    case natClassChanged(NATClass, endpoint: Endpoint?)
}

/// Why this node believes peers can reach it at its observed external endpoint.
public enum ReachabilityEvidence: Sendable, Equatable {
    /// The endpoint is one of the socket's own (``DHTNode/setLocalEndpoints(_:)``): the node is
    /// bound there, so no NAT is in between.
    case localEndpoint
    /// A KRPC query arrived from this source, to which the node had not sent within
    /// ``DHTConfiguration/reachabilityEvidenceWindow``.
    case unsolicitedQuery(from: Endpoint)
    /// An authenticated transport handshake initiation arrived from this source, to which the
    /// node had not sent within ``DHTConfiguration/reachabilityEvidenceWindow``.
    case unsolicitedHandshake(from: Endpoint)
    /// ``DHTConfiguration/requireReachabilityEvidence`` is off: the quorum is taken as enough.
    case notRequired
}

/// A datagram the caller must send.
public struct Datagram: Sendable, Equatable {
    /// Where to send it.
    public var endpoint: Endpoint
    /// The UDP payload.
    public var payload: [UInt8]

    /// A datagram from its parts.
    public init(endpoint: Endpoint, payload: [UInt8]) {
        self.endpoint = endpoint
        self.payload = payload
    }
}

/// A first contact for bootstrapping: an endpoint and, optionally, the key expected there.
public struct DHTSeed: Sendable, Equatable {
    /// Where the seed listens.
    public var endpoint: Endpoint
    /// The routing ID the seed must answer with (SHA-1 of its key), when its key was given.
    public var expectedID: NodeID?

    /// A seed from its parts.
    public init(endpoint: Endpoint, expectedID: NodeID? = nil) {
        self.endpoint = endpoint
        self.expectedID = expectedID
    }
}

/// Counters of everything a node did, for tests, metrics and the simulator.
public struct DHTStatistics: Sendable, Equatable {
    /// Datagrams handed to ``DHTNode/handleDatagram(_:from:now:)``.
    public var datagramsReceived = 0
    /// Their bytes.
    public var bytesReceived = 0
    /// Datagrams handed out by ``DHTNode/pollTransmit()``.
    public var datagramsSent = 0
    /// Their bytes.
    public var bytesSent = 0
    /// Well-formed queries received from a usable source, by method, counted before rate
    /// limiting (so a flood shows here as well as in ``queriesRateLimited``).
    public var queriesReceived = QueryMethodCounts()
    /// Queries answered (with a response or an error).
    public var queriesAnswered = 0
    /// Queries this node sent.
    public var queriesSent = 0
    /// Queries of ours that timed out.
    public var queryTimeouts = 0
    /// Datagrams dropped as not KRPC, malformed, unsolicited or spoofed.
    public var datagramsDropped = 0
    /// Items refused because their signature did not verify.
    public var invalidSignatures = 0
    /// Queries dropped unanswered because their source exceeded its rate.
    public var queriesRateLimited = 0
    /// Answers not sent because they did not fit the egress budget (``DHTConfiguration/egressBytesPerSecond``).
    public var repliesOverEgressBudget = 0
    /// Answers to unverified sources cut to the amplification limit (``DHTConfiguration/maximumAmplification``).
    public var answersCutForAmplification = 0
    /// Hand-overs of stored items to newly seen nearby nodes started (their `get`s sent).
    public var handOffsStarted = 0
    /// Hand-overs that ended in a `put` (the newcomer lacked the item or held an older `seq`).
    public var handOffPuts = 0
    /// Hand-overs skipped because ``DHTConfiguration/handOffBudgetPerInterval`` was spent.
    public var handOffsSkipped = 0
    /// Puts sent to a node that answered a put lookup after it ended, closer than its
    /// farthest target (``DHTConfiguration/latePutWindow``).
    public var latePuts = 0

    /// All zeros.
    public init() {}
}

/// Queries counted by KRPC method: the BEP 5 and BEP 44 ones, and every other method together.
public struct QueryMethodCounts: Sendable, Equatable {
    /// `ping`.
    public var ping = 0
    /// `find_node`.
    public var findNode = 0
    /// `get_peers`.
    public var getPeers = 0
    /// `announce_peer`.
    public var announcePeer = 0
    /// BEP 44 `get`.
    public var get = 0
    /// BEP 44 `put`.
    public var put = 0
    /// Any other method (answered with error 204).
    public var unknown = 0

    /// All zeros.
    public init() {}

    /// Counts one `query`.
    public mutating func count(_ query: KRPCQuery) {
        switch query {
        case .ping: ping += 1
        case .findNode: findNode += 1
        case .getPeers: getPeers += 1
        case .announcePeer: announcePeer += 1
        case .get: get += 1
        case .put: put += 1
        case .unknown: unknown += 1
        }
    }

    /// Each count with its method's KRPC name (`unknown` for the others), in a fixed order.
    public var byMethod: [(method: String, count: Int)] {
        [("ping", ping), ("find_node", findNode), ("get_peers", getPeers), ("announce_peer", announcePeer),
         ("get", get), ("put", put), ("unknown", unknown)]
    }
}

/// The timers of the DHT core; ``DHTNode/nextTimeout()`` is the earliest that is armed.
public enum DHTTimer: Sendable, Equatable {
    /// An outstanding query reaches ``DHTConfiguration/queryTimeout``.
    case queryTimeout
    /// Periodic upkeep: bucket refresh, token rotation, storage expiry, republishing.
    case maintenance
    /// The next attempt to reach the seeds after none answered.
    case bootstrapRetry
}
