import Collections
import KeywayCrypto

/// The pure, deterministic DHT core of one keyway node.
///
/// It speaks KRPC (BEP 5) with BEP 44 storage, keeps the routing table, runs lookups and stores
/// items for others. It does no I/O and reads no clock: the caller feeds it datagrams and
/// timeouts with the current ``Instant`` (`handle*`), and polls it for datagrams to send, the
/// next deadline and events (`poll*`), in the manner of quinn-proto. Randomness comes only from
/// the seed given at creation, so the same inputs always produce the same outputs.
///
/// Contracts:
/// - After any `handle*` or operation call, the caller MUST drain ``pollTransmit()`` and
///   ``pollEvent()`` and re-arm its timer from ``nextTimeout()``.
/// - The caller MUST call ``handleTimeout(now:)`` when that deadline passes; calling it early
///   is harmless.
/// - `now` MUST never go backwards.
/// - Malformed input never traps: it is dropped or answered with KRPC error 203.
public struct DHTNode: Sendable {
    /// This node's identity; its routing ID is SHA-1 of the public key.
    public let keyPair: Ed25519.KeyPair
    /// SHA-1 of ``keyPair``'s public key.
    public let id: NodeID
    /// The limits this node obeys.
    public var configuration: DHTConfiguration { sharedConfiguration.value }
    /// The one copy of ``configuration`` that the node and its tables share.
    let sharedConfiguration: SharedDHTConfiguration
    /// The routing table.
    public internal(set) var routingTable: RoutingTable
    /// Items stored for others.
    public internal(set) var store: ItemStore
    /// Counters.
    public internal(set) var statistics = DHTStatistics()
    /// This node's endpoint as a quorum of peers sees it (BEP 42), once known.
    public internal(set) var externalEndpoint: Endpoint?
    /// ``externalEndpoint`` once there is evidence that peers can reach this node there unasked
    /// (``DHTEvent/externalEndpointConfirmed(_:evidence:)``); `nil` until then, and again
    /// whenever the believed endpoint changes. This, not ``externalEndpoint``, is what a node
    /// publishes.
    public internal(set) var confirmedExternalEndpoint: Endpoint?
    /// The socket's own endpoints, as the caller last gave them (``setLocalEndpoints(_:)``).
    public internal(set) var localEndpoints: Set<Endpoint> = []
    /// What kind of NAT the peers' reports show (``NATClass``; see ``NATClassifier`` for the rule).
    public internal(set) var natClass = NATClass.unknown
    /// The endpoint peers reach this node at, for ``natClass`` `open` and `eim`.
    public internal(set) var natEndpoint: Endpoint?
    /// Whether a query or handshake arrived unsolicited since the socket's endpoints last changed.
    var unsolicitedInboundSeen = false
    /// Whether the bootstrap lookup has completed at least once.
    public internal(set) var isBootstrapped = false

    /// Every random choice: transaction IDs, token secrets, refresh targets.
    var rng: KeyedRandom
    var tokens: WriteTokens
    var peers: PeerStore
    var rateLimiter: QueryRateLimiter
    /// The upload budget of answers (``DHTConfiguration/egressBytesPerSecond``).
    var egressBudget: EgressBudget
    /// Addresses that presented a valid write token, least recent first (``DHTConfiguration/verifiedAddressLimit``).
    var verifiedAddresses = OrderedSet<IPAddress>()
    var outgoing = Deque<Datagram>()
    var events = Deque<DHTEvent>()

    // Outstanding queries by transaction ID, and their deadlines in order.
    var pending: [UInt16: PendingQuery] = [:]
    /// The capacity from which ``pending`` is rehashed smaller once it is mostly empty
    /// (an implementation constant: memory, not protocol).
    static let pendingShrinkCapacity = 64
    /// The size from which stale entries are dropped from ``deadlines``
    /// (``compactDeadlinesIfStale()``; an implementation constant: memory, not protocol).
    static let deadlineCompactionMinimum = 64
    var deadlines = Heap<Deadline>()
    /// Queries outstanding for other purposes than lookups, seeds and puts (maintenance pings,
    /// repair puts, hand-overs), held under ``DHTConfiguration/pendingQueriesReservedForLookups``.
    var pendingMaintenance = 0
    var nextSerial: UInt64 = 0
    /// Smoothed round-trip time of answered queries (RFC 6298-style average), for stall waits.
    var smoothedRTT: Duration
    /// Round-trip samples taken so far.
    var rttSamples = 0
    /// Mean deviation of the answered queries' round-trip times (RFC 6298 RTTVAR).
    var rttVariation: Duration = .zero
    var nextOperation: UInt64 = 1

    var lookups: [OperationID: Lookup] = [:]
    var puts: [OperationID: PutOperation] = [:]
    /// Put lookups that ended recently, by operation: a late answer from a closer node still
    /// gets the item (see ``DHTConfiguration/latePutWindow``).
    var latePuts: [OperationID: LatePut] = [:]
    var published: OrderedDictionary<NodeID, PublishedItem> = [:]

    var seeds: [DHTSeed] = []
    var bootstrap = BootstrapState()
    /// Bucket refreshes that follow a bootstrap lookup (``scheduleJoinRefresh(now:)``).
    var joinRefresh = JoinRefreshState()
    var nextMaintenance: Instant
    /// Votes on our external endpoint (BEP 42 `ip`), one per source network.
    var observedVotes: ObservedAddressVotes
    /// Where this node sent recently, to tell unsolicited packets apart (``RecentDestinations``).
    var recentDestinations: RecentDestinations
    /// The `seq` of the last endpoint record this node published (`-1`: none yet).
    var lastRecordSequence: Int64 = -1
    /// Hand-overs still allowed in this maintenance interval (``DHTConfiguration/handOffBudgetPerInterval``).
    var handOffBudget: Int

    /// A node with `keyPair`, whose every random choice derives from
    /// ``DHTConfiguration/randomSeed`` when it is set (a real node: secret random bytes), else
    /// from `seed` (simulations and tests, reproducible). The seed is not kept in
    /// ``configuration``.
    public init(keyPair: Ed25519.KeyPair, configuration: DHTConfiguration = DHTConfiguration(), seed: UInt64, now: Instant) {
        self.keyPair = keyPair
        self.id = NodeID(publicKey: keyPair.publicKey)
        var rng = configuration.randomSeed.map { KeyedRandom(seed: $0) } ?? KeyedRandom(seed: seed)
        var kept = configuration
        kept.randomSeed = nil
        let shared = SharedDHTConfiguration(kept)
        self.sharedConfiguration = shared
        self.tokens = WriteTokens(configuration: configuration, now: now, rng: &rng)
        self.rng = rng
        self.routingTable = RoutingTable(ownID: id, shared: shared, now: now)
        self.store = ItemStore(ownID: id, shared: shared)
        self.peers = PeerStore(shared: shared)
        self.rateLimiter = QueryRateLimiter(configuration: configuration)
        self.egressBudget = EgressBudget(configuration: configuration, now: now)
        self.nextMaintenance = now + configuration.maintenanceInterval
        self.smoothedRTT = configuration.initialRoundTripEstimate
        self.handOffBudget = configuration.handOffBudgetPerInterval
        self.observedVotes = ObservedAddressVotes(shared: shared)
        self.recentDestinations = RecentDestinations(shared: shared, now: now)
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
    public mutating func pollEvent() -> DHTEvent? { events.popFirst() }

    /// When ``handleTimeout(now:)`` must next be called.
    public func nextTimeout() -> Instant? {
        var earliest = nextMaintenance
        if let first = deadlines.min, first.at < earliest { earliest = first.at }
        if let retry = bootstrap.retryAt, retry < earliest { earliest = retry }
        return earliest
    }

    /// Which timer ``nextTimeout()`` refers to (for logs and tests).
    public func nextTimer() -> DHTTimer {
        var timer = DHTTimer.maintenance
        var earliest = nextMaintenance
        if let first = deadlines.min, first.at < earliest { earliest = first.at; timer = .queryTimeout }
        if let retry = bootstrap.retryAt, retry < earliest { timer = .bootstrapRetry }
        return timer
    }

    // MARK: Operations

    /// Joins the DHT through `seeds`: asks each for the nodes closest to our ID, then looks up
    /// our own ID. Unreachable seeds are retried with exponential backoff.
    public mutating func bootstrap(seeds: [DHTSeed], now: Instant) {
        self.seeds = seeds
        bootstrap = BootstrapState()
        startBootstrapAttempt(now: now)
    }

    /// Adds a contact directly (for a routing table restored from disk). It counts as heard
    /// from but not as having answered, so it is used but never displaces anyone.
    public mutating func addContact(_ contact: NodeContact, now: Instant) {
        routingTable.observe(contact, responded: false, now: now)
    }

    /// Starts a lookup of the newest valid mutable item signed by `publicKey` under `salt`.
    /// Ends with ``DHTEvent/itemResolved(_:target:item:statistics:)``.
    @discardableResult
    public mutating func getItem(publicKey: Ed25519.PublicKey, salt: [UInt8] = [], now: Instant) -> OperationID {
        let query = Lookup.MutableItemQuery(publicKey: publicKey.bytes, salt: salt)
        let target = MutableItem.target(publicKey: publicKey, salt: salt)
        return startLookup(target: target, purpose: .getItem(query), now: now)
    }

    /// Puts `item` on the nodes closest to its target, and keeps re-putting it every
    /// ``DHTConfiguration/republishInterval`` until ``stopPublishing(target:)``. A newer item
    /// for the same target replaces it. Ends with ``DHTEvent/itemPublished(_:target:sequence:storedOn:statistics:)``.
    @discardableResult
    public mutating func putItem(_ item: MutableItem, now: Instant) -> OperationID {
        published[item.target] = PublishedItem(item: item, republishAt: now + configuration.republishInterval)
        return startLookup(target: item.target, purpose: .putItem(item), now: now)
    }

    /// Stops republishing the item under `target` (replicas expire on their own).
    public mutating func stopPublishing(target: NodeID) {
        published.removeValue(forKey: target)
    }

    /// Starts a lookup of the nodes closest to `target`, filling the routing table on the way.
    @discardableResult
    public mutating func findNode(target: NodeID, now: Instant) -> OperationID {
        startLookup(target: target, purpose: .findNode, now: now)
    }

    /// Responders whose view of this node's endpoint (BEP 42 `ip`) is counted now, one per
    /// prefix (for `keyway status`).
    public var observedAddressVoters: Int { observedVotes.voterCount }

    /// Number of lookups in progress.
    public var activeLookups: Int { lookups.count }

    /// Number of queries waiting for an answer.
    public var pendingQueries: Int { pending.count }

    // MARK: Internal state types

    /// Why we sent a query, so its answer or timeout goes to the right place.
    enum QueryPurpose: Sendable, Equatable {
        case lookup(OperationID)
        case put(OperationID)
        case seed(DHTSeed)
        /// A liveness check of a questionable contact, or a repair put: only the table cares.
        case maintenance
        /// The `get` of a hand-over of the item stored under this target (its answer carries
        /// the write token for the `put`).
        case handOff(NodeID)

        /// Whether it is held outside the slots reserved for lookups
        /// (``DHTConfiguration/pendingQueriesReservedForLookups``).
        var isMaintenance: Bool {
            switch self {
            case .maintenance, .handOff: return true
            case .lookup, .put, .seed: return false
            }
        }
    }

    struct PendingQuery: Sendable {
        var destination: Endpoint
        var expectedID: NodeID?
        var purpose: QueryPurpose
        var deadline: Instant
        var serial: UInt64
        var sentAt: Instant
    }

    struct Deadline: Comparable, Sendable {
        var at: Instant
        var serial: UInt64
        var transactionID: UInt16
        /// What happens when it passes.
        var kind: Kind = .timeout
        /// The timeout of a query, or one of a lookup query's earlier waits.
        enum Kind: Sendable {
            /// ``DHTConfiguration/queryTimeout``: the query failed.
            case timeout
            /// The stall wait (``DHTNode/lookupStallWait``): the lookup stops waiting for it.
            case stall
            /// The straggler wait (``DHTNode/lookupStragglerWait``): the lookup may end without it.
            case straggler
        }
        static func < (lhs: Deadline, rhs: Deadline) -> Bool { (lhs.at, lhs.serial) < (rhs.at, rhs.serial) }
    }

    struct PutOperation: Sendable {
        var item: MutableItem
        var awaiting: Int
        var stored: Int
        var statistics: LookupStatistics
        var startedAt: Instant
    }

    /// A put lookup that ended while some of its queries were still unanswered.
    struct LatePut: Sendable {
        var item: MutableItem
        /// Nodes the item was put on (or offered to).
        var targets: Set<NodeID>
        /// The distance of the farthest of them from the item's target.
        var farthest: NodeID?
        /// Late answers after this are ignored.
        var until: Instant
    }

    struct PublishedItem: Sendable {
        var item: MutableItem
        var republishAt: Instant
    }

    struct BootstrapState: Sendable {
        var attempt = 0
        var awaitingSeeds = 0
        var seedAnswered = false
        var lookup: OperationID?
        var retryAt: Instant?
    }
}
