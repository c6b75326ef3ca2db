import KeywayCore
import KeywayCrypto

/// A discrete-event simulation of a keyway network: many instances of the real DHT core
/// (``DHTNode``) on a virtual clock and a virtual network, driven exactly as the runtime drives
/// one, with every random choice drawn from ``SimulationOptions/seed``. Each honest node
/// publishes through the production publisher (``EndpointPublisher``): what it publishes, when
/// it publishes again (a move, a confirmed external endpoint, a join) and the replication check
/// are the core's decisions, as in the real node.
///
/// ```swift
/// var simulation = try Simulation(options: options)
/// let result = simulation.run()
/// ```
public struct Simulation {
    /// The options of this run.
    public let options: SimulationOptions
    let configuration: DHTConfiguration

    var queue = EventQueue()
    var network: VirtualNetwork
    var nodes: [SimulatedNode]
    var cores: [DHTNode?]
    /// Each live honest node's publisher, beside its DHT core (`nil`: offline or hostile).
    var publishers: [EndpointPublisher?]
    let publisherConfiguration: PublisherConfiguration
    /// The virtual clock.
    public private(set) var now = Instant.zero
    var trace = TraceHash()
    var metrics = MetricsCollector()
    var checker: InvariantChecker
    /// Hostile nodes (`--hostile`): who they are and what they remember.
    var hostile: HostileWorld

    /// Random streams, one per concern, split from the run seed.
    var coreSeeds: SeededRandom
    var workloadRandom: SeededRandom
    var churnRandom: SeededRandom
    var scenarioRandom: SeededRandom

    /// Live nodes that have bootstrapped in their current life (resolvers).
    var ready: SampledSet
    /// Live nodes whose record is published (resolve targets).
    var published: SampledSet
    /// Live nodes (for the live-node integral and IP churn).
    var aliveCount = 0
    /// The seeds every node is given.
    var seedList: [DHTSeed] = []

    /// Resolves in flight, by (node, incarnation, operation).
    var pendingResolves: [ResolveKey: PendingResolve] = [:]
    /// Pairs of the convergence check: (resolver, target, started).
    var checkPairs: [(resolver: Int32, target: Int32, started: Instant, done: Bool)] = []
    var checkRemaining = 0

    /// Phase boundaries (set as the run reaches them).
    var measurementStart: Instant?
    var churnEnd: Instant?
    var checkStart: Instant?
    var churnActive = false
    /// The join window is over: a node's publisher starts as soon as it bootstraps (and a node
    /// that starts from now on starts its publisher at once, as the real node does).
    var publishingOpen = false
    /// The seed of each partition, drawn when measurement begins.
    var partitionSeeds: [UInt64] = []
    var finished = false
    /// Events processed.
    public private(set) var eventsProcessed: UInt64 = 0

    /// Called now and then with a one-line status while running (for a progress display).
    public var progress: ((SimulationProgress) -> Void)?
    /// Events between two progress reports.
    public var progressInterval: UInt64 = 1 << 16

    /// The ideal model the hop counts are compared with (``IdealLookup``).
    var ideal = IdealLookup()
    /// Longest a membership snapshot of the ideal model is used before it is taken again.
    static let idealSnapshotInterval: Duration = .seconds(5)

    /// How long past the check bound the run waits for the last check resolves to end.
    static let checkGrace: Duration = .seconds(60)

    /// Microseconds since 1970 at virtual time zero: records' `seq` is this plus virtual time.
    static let wallClockOrigin: Int64 = 1_767_225_600_000_000

    /// Prepares a run: validates the options and creates every node's identity (no node runs yet).
    public init(options: SimulationOptions) throws(OptionError) {
        try options.validate()
        self.options = options
        configuration = options.dhtConfiguration
        var root = SeededRandom(seed: options.seed)
        var identities = root.split()
        coreSeeds = root.split()
        workloadRandom = root.split()
        churnRandom = root.split()
        scenarioRandom = root.split()
        network = VirtualNetwork(latency: options.latency, faults: options.faults, nodes: options.nodes, rng: root.split())
        if options.hostile.isEmpty {
            hostile = HostileWorld(nodes: options.nodes)
        } else {
            // Split after every other stream, so that the rest of a run keeps its random draws.
            var hostileRandom = root.split()
            hostile = HostileWorld(specs: options.hostile, nodes: options.nodes, seeds: options.workload.seeds, rng: &hostileRandom)
        }
        var nodes: [SimulatedNode] = []
        nodes.reserveCapacity(options.nodes)
        for index in 0..<options.nodes {
            // Force-try: 32 seed bytes always make a key pair.
            let keyPair = try! Ed25519.KeyPair(seed: identities.bytes(count: Ed25519.seedLength))
            nodes.append(SimulatedNode(keyPair: keyPair, isSeed: index < options.workload.seeds, hostile: hostile.kinds[index]))
        }
        self.nodes = nodes
        if hostile.isActive {
            for index in nodes.indices where nodes[index].hostile == nil { hostile.owners[nodes[index].id] = Int32(index) }
        }
        cores = Array(repeating: nil, count: options.nodes)
        publishers = Array(repeating: nil, count: options.nodes)
        var publisher = PublisherConfiguration()
        publisher.wallClockAtOrigin = .microseconds(Simulation.wallClockOrigin)
        publisherConfiguration = publisher
        checker = InvariantChecker(nodes: options.nodes)
        ready = SampledSet(capacity: options.nodes)
        published = SampledSet(capacity: options.nodes)
    }

    /// Runs the whole scenario and returns what was measured.
    public mutating func run() -> SimulationResult {
        let clock = ContinuousClock()
        let started = clock.now
        scheduleScenario()
        var nextReport = progressInterval
        while !finished, let (at, event) = queue.next() {
            now = at
            eventsProcessed &+= 1
            switch event {
            case let .deliver(datagram): deliver(datagram)
            case let .timer(node, generation): fire(node: Int(node), generation: generation)
            case let .action(action): perform(action)
            }
            if let checkStart, now > checkStart + options.workload.checkBound + Simulation.checkGrace { break }
            if eventsProcessed >= nextReport {
                nextReport += progressInterval
                progress?(progressSnapshot(wallSeconds: (clock.now - started).secondsDouble))
            }
        }
        finalAudit()
        return makeResult(wallSeconds: (clock.now - started).secondsDouble)
    }

    // MARK: The network

    /// Sends everything node `index` queued, handles its events (the DHT's are shown to its
    /// publisher first, as ``KeywayNodeCore`` does), and re-arms its timer.
    mutating func drain(_ index: Int) {
        while cores[index] != nil {
            while let datagram = cores[index]!.pollTransmit() {
                send(nodes[index].hostile == .eclipse ? hostileRewrite(datagram, from: index) : datagram, from: index)
            }
            if let event = publishers[index]?.pollEvent() {
                handle(event, node: index)
                continue
            }
            guard let event = cores[index]!.pollEvent() else { break }
            publishers[index]?.handle(event, dht: &cores[index]!, now: now)
            handle(event, node: index)
        }
        rearm(index)
    }

    mutating func send(_ datagram: Datagram, from sender: Int) {
        metrics.sent(bytes: datagram.payload.count)
        let source: Endpoint?
        if datagram.endpoint.address.isIPv4 { source = nodes[sender].endpoint } else { source = nodes[sender].secondaryEndpoint }
        guard let source else { return }
        let receiver = network.owner(of: datagram.endpoint)
        var payload = datagram.payload
        let (first, copy) = network.transmit(from: sender, to: receiver, payload: &payload)
        if let first {
            queue.schedule(.deliver(InFlightDatagram(sender: Int32(sender), source: source, destination: datagram.endpoint, payload: payload)), at: now + first)
        }
        if let copy {
            queue.schedule(.deliver(InFlightDatagram(sender: Int32(sender), source: source, destination: datagram.endpoint, payload: payload)), at: now + copy)
        }
    }

    private mutating func deliver(_ datagram: InFlightDatagram) {
        guard let receiver = network.owner(of: datagram.destination), cores[receiver] != nil else {
            network.countUndeliverable(partitioned: false)
            return
        }
        if network.partitioned(Int(datagram.sender), receiver) {
            network.countUndeliverable(partitioned: true)
            return
        }
        network.countDelivered()
        trace.record(at: now, from: datagram.source, to: datagram.destination, payload: datagram.payload)
        if nodes[receiver].hostile != nil { return hostileReceive(receiver, datagram) }
        cores[receiver]!.handleDatagram(datagram.payload, from: datagram.source, now: now)
        drain(receiver)
    }

    // MARK: Timers

    /// Queues a timer event for the node's next deadline unless an earlier one is queued
    /// (an early wake-up is harmless: the core just re-arms).
    private mutating func rearm(_ index: Int) {
        guard let deadline = [cores[index]?.nextTimeout(), publishers[index]?.nextTimeout()].compactMap({ $0 }).min() else { return }
        if let armed = nodes[index].armedTimer, armed <= deadline { return }
        nodes[index].armedTimer = deadline
        nodes[index].timerGeneration &+= 1
        queue.schedule(.timer(node: Int32(index), generation: nodes[index].timerGeneration), at: max(deadline, now))
    }

    private mutating func fire(node index: Int, generation: UInt32) {
        guard nodes[index].timerGeneration == generation, cores[index] != nil else { return }
        nodes[index].armedTimer = nil
        cores[index]!.handleTimeout(now: now)
        publishers[index]?.handleTimeout(dht: &cores[index]!, now: now)
        drain(index)
    }

    /// Forgets the node's queued timer (it left).
    mutating func disarm(_ index: Int) {
        nodes[index].armedTimer = nil
        nodes[index].timerGeneration &+= 1
    }

    // MARK: Core events

    private mutating func handle(_ event: DHTEvent, node index: Int) {
        switch event {
        case .bootstrapped:
            becomeReady(index)
        case let .itemPublished(_, target, sequence, storedOn, _):
            guard target == nodes[index].id else { return }
            metrics.publishes += 1
            if storedOn == 0 { metrics.publishesStoredNowhere += 1; return }
            nodes[index].publishedSequence = max(nodes[index].publishedSequence, sequence)
            published.insert(index)
        case let .itemResolved(operation, _, item, statistics):
            let key = ResolveKey(node: Int32(index), incarnation: nodes[index].incarnation, operation: operation.rawValue)
            guard let pending = pendingResolves.removeValue(forKey: key) else { return }
            resolved(pending, by: index, item: item, statistics: statistics)
        case .seedsUnreachable, .seedKeyMismatch, .externalEndpointChanged, .externalEndpointConfirmed, .natClassChanged:
            break
        }
    }

    /// The node is part of the DHT: it publishes its record and may resolve.
    mutating func becomeReady(_ index: Int) {
        guard !nodes[index].isReady, nodes[index].isAlive else { return }
        if let kind = nodes[index].hostile {
            // Hostile nodes never publish nor resolve; eclipse nodes start haunting their target.
            if kind == .eclipse, hostile.isActive {
                let offset = hostile.states[Int32(index)]!.rng.unit() * HostileWorld.eclipseLookupInterval.secondsDouble
                queue.schedule(.action(.eclipseLookup(node: Int32(index))), at: now + .seconds(double: offset))
            }
            return
        }
        nodes[index].isReady = true
        ready.insert(index)
        if publishingOpen { startPublisher(index, publishAtOnce: true) }
    }

    /// The node's socket as its publisher sees it: bound to its IPv4 endpoint, or, dual-stack,
    /// to `[::]` with both addresses as interfaces (one port for both, as the real node).
    func socket(of index: Int) -> LocalSocket? {
        guard let endpoint = nodes[index].endpoint else { return nil }
        guard let secondary = nodes[index].secondaryEndpoint else { return LocalSocket(bound: endpoint, family: .ipv4) }
        return LocalSocket(bound: Endpoint(address: .v6(high: 0, low: 0), port: endpoint.port), family: .dualStack,
                           interfaces: [endpoint.address, secondary.address])
    }

    /// Starts the node's publisher (once per life); it publishes at once when `publishAtOnce`.
    mutating func startPublisher(_ index: Int, publishAtOnce: Bool) {
        guard cores[index] != nil, publishers[index]?.isStarted == false, let socket = socket(of: index) else { return }
        publishers[index]!.start(socket: socket, publishAtOnce: publishAtOnce, dht: &cores[index]!, now: now)
    }

    /// What the node's publisher did: a new record is what resolves must now return.
    private mutating func handle(_ event: PublisherEvent, node index: Int) {
        switch event {
        case let .putStarted(record, _, newSequence):
            guard newSequence else { return }
            nodes[index].latestSequence = record.timestampMicroseconds
            checker.recordGenuine(record.signed(by: nodes[index].keyPair))
        case let .nothingToPublish(reason):
            checker.fail("t=\(now): node \(index)'s publisher had nothing to publish (\(reason)) though the node is bound")
        case let .cannotPublish(reason, error):
            checker.fail("t=\(now): node \(index)'s publisher could not publish (\(reason)): \(error)")
        case .reachableEndpointsChanged, .published:
            break
        }
    }
}

/// Identifies a resolve in flight: operation IDs restart when a node restarts.
struct ResolveKey: Hashable {
    var node: Int32
    var incarnation: UInt32
    var operation: UInt64
}

/// Why a resolve was started, and what to compare its answer with.
struct PendingResolve {
    enum Purpose {
        /// A resolve of the workload.
        case workload
        /// A freshness probe after move number `move`.
        case probe(move: Int32)
        /// Pair number `pair` of the convergence check.
        case check(pair: Int32)
        /// A resolve of the eclipse target (``HostileBehaviour/eclipse``).
        case eclipse
    }

    var purpose: Purpose
    /// Whose record.
    var target: Int32
    var started: Instant
    /// The newest `seq` the owner had finished publishing when the resolve began.
    var expectedSequence: Int64
    /// What the resolver itself stored for the target when the resolve began.
    var localSequence: Int64?
}

/// A snapshot for a progress line.
public struct SimulationProgress: Sendable {
    /// Virtual time.
    public var virtualSeconds: Double
    /// Virtual time at which the run is planned to end (before the convergence check).
    public var plannedSeconds: Double
    /// Events processed.
    public var events: UInt64
    /// Wall-clock seconds so far.
    public var wallSeconds: Double
    /// Live nodes.
    public var liveNodes: Int
    /// Workload resolves completed.
    public var resolves: Int
    /// Share of them that succeeded.
    public var successRate: Double
    /// The phase the run is in.
    public var phase: String
}
