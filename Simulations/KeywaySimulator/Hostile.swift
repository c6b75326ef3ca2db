import KeywayCore
import KeywayCrypto

/// What a hostile node does (`keyway-sim --hostile FRACTION:KIND[,KIND...]`).
///
/// A hostile node runs a real ``DHTNode`` for its own traffic (it bootstraps, refreshes its
/// buckets and queries like any node, so honest nodes learn of it), but the simulator answers
/// every query sent to it with a hand-written responder that behaves as its kind says. Honest
/// nodes are the unmodified production core. Hostile nodes never publish, never resolve, never
/// churn and never move: they are a standing attacker, and the measured figures are those of
/// honest resolvers resolving honest keys.
public enum HostileBehaviour: String, CaseIterable, Sendable, Codable {
    /// Never answers a query (a black hole that still queries, so it enters routing tables).
    case drop
    /// Answers `find_node` and `get` with fabricated contacts: IDs sharing 24 leading bits with
    /// the target (so closer than any real node), at addresses in distinct /24s nobody holds.
    /// Never returns a value; acknowledges puts and discards them.
    case lie
    /// Answers honestly about contacts (its own routing table), but serves the *oldest* validly
    /// signed version it was ever put of a record instead of the newest.
    case stale
    /// Answers honestly about contacts, but serves records with bad signatures: the newest
    /// version it holds with a higher `seq` and rewritten endpoints (the old signature), or,
    /// for a record it does not hold, a fabricated one under a random key.
    case forge
    /// One of many IDs (real, key-derived ones) all in one attacker /24 (``HostileWorld/attackerPrefix``,
    /// distinct ports): answers every `find_node` and `get` with the fellow Sybils closest to
    /// the target, never returns a value, and swallows puts.
    case sybil
    /// A Sybil whose claimed ID is ground next to one honest key's target
    /// (``HostileWorld/eclipsePrefixBits`` leading bits shared), from the same attacker /24. It
    /// keeps looking that target up so the honest nodes around it learn of it, answers with
    /// fellow eclipse IDs only, never returns a value and swallows puts (the owner's puts to it
    /// included). The eclipse fails if the target key still resolves.
    case eclipse

    /// Whether nodes of this kind sit in the attacker /24 rather than a /24 of their own.
    var inAttackerPrefix: Bool { self == .sybil || self == .eclipse }
}

/// One `--hostile FRACTION:KIND[,KIND...]` option: `FRACTION` of all nodes (rounded down) are
/// hostile, split evenly among the kinds (round robin). Seeds are never hostile.
public struct HostileSpec: Sendable, Equatable, CustomStringConvertible {
    /// Share of all nodes (0 to 1, exclusive of 0).
    public var fraction: Double
    /// The behaviours, in the order given; nodes are dealt to them in turn.
    public var kinds: [HostileBehaviour]

    /// A spec from its parts.
    public init(fraction: Double, kinds: [HostileBehaviour]) {
        self.fraction = fraction
        self.kinds = kinds
    }

    /// Parses `FRACTION:KIND[,KIND...]`, like `0.2:lie` or `0.3:drop,forge,stale`; a fraction
    /// may be written as a percentage (`20%`).
    public init(parsing text: String) throws(OptionError) {
        let kinds = HostileBehaviour.allCases.map(\.rawValue).joined(separator: ", ")
        let parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 2 else { throw OptionError("--hostile: '\(text)' is not FRACTION:KIND[,KIND...], like 0.2:lie (kinds: \(kinds))") }
        var fractionText = parts[0]
        var scale = 1.0
        if fractionText.hasSuffix("%") { fractionText.removeLast(); scale = 0.01 }
        guard let value = Double(fractionText), value.isFinite, value * scale > 0, value * scale < 1 else {
            throw OptionError("--hostile: the fraction in '\(text)' must be above 0 and below 1")
        }
        var parsed: [HostileBehaviour] = []
        for name in parts[1].split(separator: ",", omittingEmptySubsequences: false) {
            guard let kind = HostileBehaviour(rawValue: name.lowercased()) else {
                throw OptionError("--hostile: '\(name)' in '\(text)' is not one of \(kinds)")
            }
            parsed.append(kind)
        }
        self.init(fraction: value * scale, kinds: parsed)
    }

    /// `FRACTION:KIND[,KIND...]`.
    public var description: String { "\(fraction):\(kinds.map(\.rawValue).joined(separator: ","))" }
}

/// The hostile side of a run: which nodes are hostile and how, the attacker /24, the eclipse
/// target, and what each hostile node remembers.
struct HostileWorld {
    /// The attacker's /24: every Sybil and eclipse node has an address in it, one per
    /// (host, port), ports from ``attackerFirstPort`` (honest nodes all use port 6881).
    static let attackerPrefix: UInt32 = 0x0AFF_FF00
    /// The first port of the attacker's endpoints.
    static let attackerFirstPort: UInt16 = 7000
    /// Leading bits an eclipse ID shares with the target it surrounds: 32, far more than any
    /// honest node in a network of a million nodes shares (about 20), so every eclipse ID is
    /// closer to the target than every honest node.
    static let eclipsePrefixBits = 32
    /// Leading bits a fabricated contact of a liar shares with the target it was asked for.
    static let liePrefixBits = 24
    /// How often an eclipse node looks its target up again (each refreshes the honest
    /// neighbourhood's knowledge of it).
    static let eclipseLookupInterval: Duration = .seconds(30)
    /// How often, during measurement, a random honest node resolves the eclipse target.
    static let eclipseProbeInterval: Duration = .seconds(1)
    /// Convergence-check pairs added whose target is the eclipse target.
    static let eclipseCheckPairs = 20
    /// Honest resolve success (and the eclipse target's) a run with hostile nodes must reach.
    static let requiredSuccess = 0.99
    /// The token every hostile node hands out (they accept any).
    static let token: [UInt8] = Array("hostile!".utf8)

    /// Each node's behaviour (`nil`: honest).
    var kinds: [HostileBehaviour?]
    /// The honest node whose key the eclipse nodes surround, if any eclipse node exists.
    var eclipseTarget: Int?
    /// What each hostile node remembers, by node index.
    var states: [Int32: HostileNodeState] = [:]
    /// Sybil nodes as contacts (real ID at the attacker endpoint), as they bind.
    var sybilContacts: [NodeContact] = []
    /// Eclipse nodes as contacts (claimed ID at the attacker endpoint), as they bind.
    var eclipseContacts: [NodeContact] = []
    /// Attacker endpoints handed out so far.
    var attackerSlots = 0
    /// Hostile nodes per kind.
    var counts: [HostileBehaviour: Int] = [:]
    /// Queries hostile nodes answered (with their lie) and dropped.
    var answered = 0
    var dropped = 0
    /// Resolves of the eclipse target during measurement, and how many returned a valid record,
    /// and the newest one.
    var eclipseResolves = 0
    var eclipseSuccesses = 0
    var eclipseFresh = 0
    /// Record versions stale nodes served that were older than their owner's newest published
    /// one, and forged records forge nodes served.
    var olderServed = 0
    var forgedServed = 0
    /// The owner of each honest record target (to tell an older version when one is served).
    var owners: [NodeID: Int32] = [:]
    /// Resolves (any purpose) that returned a valid record older than the newest its owner had
    /// finished publishing when they began.
    var olderAccepted = 0
    /// Resolves that returned a record whose signature fails.
    var forgedAccepted = 0

    /// No hostile node.
    init(nodes: Int) { kinds = Array(repeating: nil, count: nodes) }

    /// Deals the hostile roles: the specs' node counts drawn at random among the non-seed
    /// nodes, then the eclipse target among the honest non-seed ones left.
    init(specs: [HostileSpec], nodes: Int, seeds: Int, rng: inout SeededRandom) {
        self.init(nodes: nodes)
        var order = Array(seeds..<nodes)
        for index in order.indices.reversed() where index > 0 {
            order.swapAt(index, rng.index(below: index + 1))
        }
        var next = 0
        for spec in specs {
            let count = Int(spec.fraction * Double(nodes))
            for dealt in 0..<count where next < order.count {
                let kind = spec.kinds[dealt % spec.kinds.count]
                kinds[order[next]] = kind
                counts[kind, default: 0] += 1
                next += 1
            }
        }
        if counts[.eclipse, default: 0] > 0, next < order.count { eclipseTarget = order[next] }
        for index in kinds.indices {
            guard let kind = kinds[index] else { continue }
            states[Int32(index)] = HostileNodeState(kind: kind, rng: rng.split())
        }
    }

    /// Whether any node is hostile.
    var isActive: Bool { !states.isEmpty }

    /// The next endpoint in the attacker /24.
    mutating func nextAttackerEndpoint() -> Endpoint {
        let slot = attackerSlots
        attackerSlots += 1
        return HostileWorld.attackerEndpoint(slot: slot)
    }

    /// Attacker endpoint number `slot`: host `1 + slot % 254`, port ``attackerFirstPort`` + `slot / 254`.
    static func attackerEndpoint(slot: Int) -> Endpoint {
        Endpoint(address: .v4(attackerPrefix | UInt32(1 + slot % 254)), port: attackerFirstPort + UInt16(slot / 254))
    }

    /// The slot of an attacker endpoint, if it is one.
    @inline(__always)
    static func attackerSlot(of endpoint: Endpoint) -> Int? {
        guard endpoint.port >= attackerFirstPort, case let .v4(address) = endpoint.address,
              address & 0xFFFF_FF00 == attackerPrefix else { return nil }
        let host = Int(address & 0xFF)
        guard host >= 1, host <= 254 else { return nil }
        return Int(endpoint.port - attackerFirstPort) * 254 + host - 1
    }

    /// An ID sharing `bits` leading bits with `target`, the rest random.
    static func id(near target: NodeID, sharing bits: Int, using rng: inout SeededRandom) -> NodeID {
        var random = NodeID(high: rng.next(), middle: rng.next(), low: UInt32(truncatingIfNeeded: rng.next()))
        for bit in 0..<bits where random.bit(bit) != target.bit(bit) { random = random.flippingBit(bit) }
        return random
    }
}

/// What one hostile node remembers and draws from.
struct HostileNodeState {
    let kind: HostileBehaviour
    var rng: SeededRandom
    /// The ID it claims (an eclipse node's ground ID; otherwise its own).
    var claimedID: NodeID?
    /// Per target, the oldest and the newest mutable item it was put (stale, forge, eclipse).
    var items: [NodeID: (oldest: MutableItem, newest: MutableItem)] = [:]
    /// Most targets remembered (the rest are ignored: an attacker's memory is not our concern,
    /// the simulator's is).
    static let itemLimit = 4096

    init(kind: HostileBehaviour, rng: SeededRandom) {
        self.kind = kind
        self.rng = rng
    }

    /// Remembers a put mutable item.
    mutating func remember(_ put: KRPCPut) {
        guard let key = put.publicKey, let publicKey = try? Ed25519.PublicKey(bytes: key), let sequence = put.sequence,
              let signature = put.signature else { return }
        let item = MutableItem(publicKey: publicKey, salt: put.salt ?? [], sequence: sequence, encodedValue: put.encodedValue, signature: signature)
        let target = item.target
        if let known = items[target] {
            items[target] = (sequence < known.oldest.sequence ? item : known.oldest, sequence > known.newest.sequence ? item : known.newest)
        } else if items.count < HostileNodeState.itemLimit {
            items[target] = (item, item)
        }
    }
}

extension Simulation {
    /// A datagram reached hostile node `index`: queries get its kind's answer (or none);
    /// answers to its own queries go to its core.
    mutating func hostileReceive(_ index: Int, _ datagram: InFlightDatagram) {
        guard let message = try? KRPCMessage.decode(datagram.payload) else { return }
        guard case let .query(query) = message.body else {
            cores[index]!.handleDatagram(datagram.payload, from: datagram.source, now: now)
            drain(index)
            return
        }
        guard let body = hostileAnswer(index, query) else {
            hostile.dropped += 1
            return
        }
        hostile.answered += 1
        let reply = KRPCMessage(transactionID: message.transactionID, body: body, clientVersion: configuration.clientVersion)
        send(Datagram(endpoint: datagram.source, payload: reply.encoded()), from: index)
    }

    /// What hostile node `index` answers to `query` (`nil`: nothing).
    private mutating func hostileAnswer(_ index: Int, _ query: KRPCQuery) -> KRPCMessage.Body? {
        let key = Int32(index)
        guard var state = hostile.states[key] else { return nil }
        defer { hostile.states[key] = state }
        let ownID = state.claimedID ?? nodes[index].id
        let target: NodeID
        var isGet = false
        switch query {
        case .ping, .announcePeer:
            return state.kind == .drop ? nil : .response(KRPCResponse(id: ownID))
        case let .put(put):
            if state.kind == .drop { return nil }
            if state.kind == .stale || state.kind == .forge { state.remember(put) }
            return .response(KRPCResponse(id: ownID))
        case .unknown:
            return nil
        case let .findNode(_, wanted), let .getPeers(_, wanted):
            target = wanted
        case let .get(_, wanted, _):
            target = wanted
            isGet = true
        }
        var response = KRPCResponse(id: ownID)
        if isGet { response.token = HostileWorld.token }
        switch state.kind {
        case .drop:
            return nil
        case .lie:
            response.nodes = (0..<configuration.bucketSize).map { _ in
                let id = HostileWorld.id(near: target, sharing: HostileWorld.liePrefixBits, using: &state.rng)
                // 10.A.B.H with H >= 200: an address number far beyond any run's, so nobody holds it,
                // and each fabricated contact in a /24 of its own.
                let address = 0x0A00_0000 | UInt32(truncatingIfNeeded: state.rng.next() & 0xFFFF) << 8 | UInt32(200 + state.rng.index(below: 55))
                return NodeContact(id: id, endpoint: Endpoint(address: .v4(address), port: VirtualNetwork.port))
            }
        case .stale, .forge:
            response.nodes = cores[index]?.routingTable.closest(to: target, count: configuration.bucketSize, ipv4: true) ?? []
            guard isGet else { break }
            if let known = state.items[target] {
                if state.kind == .stale {
                    put(known.oldest, into: &response)
                    if let owner = hostile.owners[target], known.oldest.sequence < nodes[Int(owner)].publishedSequence { hostile.olderServed += 1 }
                } else {
                    put(forged(known.newest, by: index), into: &response)
                    hostile.forgedServed += 1
                }
            } else if state.kind == .forge {
                response.publicKey = state.rng.bytes(count: Ed25519.publicKeyLength)
                response.sequence = Simulation.wallClockOrigin + Int64(now.nanoseconds / 1000) + 1_000_000
                response.encodedValue = Array("3:bad".utf8)
                response.signature = state.rng.bytes(count: Ed25519.signatureLength)
                hostile.forgedServed += 1
            }
        case .sybil:
            response.nodes = closest(in: hostile.sybilContacts, to: target, excluding: ownID)
        case .eclipse:
            response.nodes = closest(in: hostile.eclipseContacts, to: target, excluding: ownID)
        }
        return .response(response)
    }

    /// A forgery of `item`: a later `seq` and endpoints pointing at the forger, under the
    /// original signature (which no longer verifies).
    private func forged(_ item: MutableItem, by index: Int) -> MutableItem {
        var value = item.encodedValue
        if let record = try? EndpointRecord(item: item), let endpoint = nodes[index].endpoint,
           let fake = try? EndpointRecord(publicKey: record.publicKey, timestampMicroseconds: item.sequence + 1_000_000, endpoints: [endpoint]) {
            // A well-formed value naming the forger; the signature is the old one, which does not cover it.
            value = fake.encodedValue
        }
        return MutableItem(publicKey: item.publicKey, salt: item.salt, sequence: item.sequence + 1_000_000, encodedValue: value, signature: item.signature)
    }

    private func put(_ item: MutableItem, into response: inout KRPCResponse) {
        response.publicKey = item.publicKey.bytes
        response.sequence = item.sequence
        response.encodedValue = item.encodedValue
        response.signature = item.signature
    }

    /// The bucket-size contacts of `roster` closest to `target`, without `own`.
    private func closest(in roster: [NodeContact], to target: NodeID, excluding own: NodeID) -> [NodeContact] {
        var best: [(distance: NodeID, contact: NodeContact)] = []
        let count = configuration.bucketSize
        for contact in roster where contact.id != own {
            let distance = contact.id.distance(to: target)
            if best.count == count, !(distance < best[count - 1].distance) { continue }
            var position = best.count
            while position > 0 && distance < best[position - 1].distance { position -= 1 }
            best.insert((distance, contact), at: position)
            if best.count > count { best.removeLast() }
        }
        return best.map(\.contact)
    }

    /// An eclipse node's outgoing queries carry its claimed ID instead of its core's.
    mutating func hostileRewrite(_ datagram: Datagram, from index: Int) -> Datagram {
        guard let claimed = hostile.states[Int32(index)]?.claimedID,
              var message = try? KRPCMessage.decode(datagram.payload) else { return datagram }
        switch message.body {
        case let .query(query):
            let rewritten: KRPCQuery
            switch query {
            case .ping: rewritten = .ping(id: claimed)
            case let .findNode(_, target): rewritten = .findNode(id: claimed, target: target)
            case let .getPeers(_, hash): rewritten = .getPeers(id: claimed, infoHash: hash)
            case let .get(_, target, sequence): rewritten = .get(id: claimed, target: target, sequence: sequence)
            case let .announcePeer(_, hash, port, implied, token): rewritten = .announcePeer(id: claimed, infoHash: hash, port: port, impliedPort: implied, token: token)
            case var .put(put): put.id = claimed; rewritten = .put(put)
            case .unknown: rewritten = query
            }
            message.body = .query(rewritten)
        case var .response(response):
            response.id = claimed
            message.body = .response(response)
        case .error:
            return datagram
        }
        return Datagram(endpoint: datagram.endpoint, payload: message.encoded())
    }

    /// Hostile node `index` has bound its address: Sybils and eclipse nodes join the rosters.
    mutating func hostileBound(_ index: Int) {
        guard let kind = nodes[index].hostile, let endpoint = nodes[index].endpoint else { return }
        switch kind {
        case .sybil:
            hostile.sybilContacts.append(NodeContact(id: nodes[index].id, endpoint: endpoint))
        case .eclipse:
            guard let target = hostile.eclipseTarget else { return }
            let key = Int32(index)
            let claimed = HostileWorld.id(near: nodes[target].id, sharing: HostileWorld.eclipsePrefixBits, using: &hostile.states[key]!.rng)
            hostile.states[key]!.claimedID = claimed
            hostile.eclipseContacts.append(NodeContact(id: claimed, endpoint: endpoint))
        default:
            break
        }
    }

    /// An eclipse node looks its target up (so the honest nodes there hear its claimed ID) and
    /// queues the next lookup.
    mutating func eclipseLookup(_ index: Int) {
        guard let target = hostile.eclipseTarget, cores[index] != nil else { return }
        cores[index]!.findNode(target: nodes[target].id, now: now)
        drain(index)
        queue.schedule(.action(.eclipseLookup(node: Int32(index))), at: now + HostileWorld.eclipseLookupInterval)
    }

    /// During measurement: a random honest node resolves the eclipse target.
    mutating func eclipseProbe() {
        guard churnActive, let target = hostile.eclipseTarget else { return }
        queue.schedule(.action(.eclipseProbe), at: now + HostileWorld.eclipseProbeInterval)
        guard published.contains(target), let resolver = ready.random(excluding: target, using: &workloadRandom) else { return }
        startResolve(.eclipse, by: resolver, of: target)
    }
}

extension Simulation {
    /// The checks hostile nodes make necessary, on a record a resolve returned: it must not be
    /// forged (``InvariantChecker`` already failed it) and must not be older than the newest
    /// record its owner had finished publishing (its put ended, stored on at least one node) when the resolve
    /// began, ``PendingResolve/expectedSequence``.
    mutating func checkAgainstHostiles(_ item: MutableItem, valid: Bool, _ pending: PendingResolve, by resolver: Int, statistics: LookupStatistics) {
        if !valid {
            hostile.forgedAccepted += 1
        } else if item.sequence < pending.expectedSequence {
            hostile.olderAccepted += 1
            checker.fail("t=\(now): node \(resolver) resolved seq \(item.sequence) for node \(pending.target) though seq \(pending.expectedSequence) had been published before the resolve began (lookup: \(statistics.queries) queries of at most \(configuration.lookupQueryLimit), \(statistics.responses) responses, \(statistics.timeouts) timeouts; \(replicaReport(of: Int(pending.target))))")
        }
    }

    /// The figures hostile nodes must not spoil, checked at the end of a run: honest resolve
    /// success, and the eclipse target's.
    mutating func finalHostileChecks() {
        guard hostile.isActive else { return }
        let resolves = metrics.resolves.count
        let successes = metrics.resolves.reduce(0) { $0 + ($1.success ? 1 : 0) }
        if resolves > 0, Double(successes) < HostileWorld.requiredSuccess * Double(resolves) {
            checker.fail("hostile: honest resolve success \(successes)/\(resolves) is below \(HostileWorld.requiredSuccess * 100) %")
        }
        if let target = hostile.eclipseTarget {
            if hostile.eclipseResolves == 0 {
                checker.fail("eclipse: the target node \(target) was never resolved during measurement")
            } else if Double(hostile.eclipseSuccesses) < HostileWorld.requiredSuccess * Double(hostile.eclipseResolves) {
                checker.fail("eclipse: the target node \(target) resolved \(hostile.eclipseSuccesses)/\(hostile.eclipseResolves) times: the eclipse worked")
            }
        }
    }

    /// What the hostile nodes did, for the summary (`nil` without `--hostile`).
    var hostileSummary: HostileSummary? {
        guard hostile.isActive else { return nil }
        // How far the attacker's /24 got into honest routing tables.
        var attackerContacts: [Int] = []
        for index in cores.indices where nodes[index].hostile == nil {
            guard let core = cores[index] else { continue }
            attackerContacts.append(core.routingTable.allContacts.reduce(0) { $0 + (HostileWorld.attackerSlot(of: $1.node.endpoint) == nil ? 0 : 1) })
        }
        return HostileSummary(
            nodes: Dictionary(uniqueKeysWithValues: hostile.counts.map { ($0.key.rawValue, $0.value) }),
            queriesAnswered: hostile.answered, queriesDropped: hostile.dropped,
            olderServed: hostile.olderServed, forgedServed: hostile.forgedServed,
            attackerContactsPerTable: Percentiles(attackerContacts.map(Double.init)),
            forgedAccepted: hostile.forgedAccepted, olderAccepted: hostile.olderAccepted,
            eclipseTarget: hostile.eclipseTarget,
            eclipseIDs: hostile.eclipseContacts.count,
            eclipseResolves: hostile.eclipseResolves,
            eclipseSuccessRate: hostile.eclipseResolves == 0 ? 0 : Double(hostile.eclipseSuccesses) / Double(hostile.eclipseResolves),
            eclipseFreshRate: hostile.eclipseResolves == 0 ? 0 : Double(hostile.eclipseFresh) / Double(hostile.eclipseResolves))
    }
}

/// What the hostile nodes of a run did, and how the honest ones fared against them.
public struct HostileSummary: Sendable, Codable {
    /// Hostile nodes per kind.
    public var nodes: [String: Int]
    /// Queries hostile nodes answered (with their kind's answer).
    public var queriesAnswered: Int
    /// Queries hostile nodes left unanswered.
    public var queriesDropped: Int
    /// Record versions stale nodes served that were older than the newest one their owner had
    /// published (the attack was tried this often).
    public var olderServed: Int
    /// Forged records forge nodes served.
    public var forgedServed: Int
    /// Contacts from the attacker's /24 (Sybil and eclipse nodes) per live honest routing table
    /// at the end: the per-prefix limits keep it at most ``DHTConfiguration/routingContactsPerPrefix``.
    public var attackerContactsPerTable: Percentiles
    /// Resolves that returned a record whose signature fails (must be 0).
    public var forgedAccepted: Int
    /// Resolves that returned a valid record older than the newest its owner had finished
    /// publishing when they began (must be 0).
    public var olderAccepted: Int
    /// The node whose key the eclipse nodes surround.
    public var eclipseTarget: Int?
    /// Eclipse IDs around it (all from the attacker's /24).
    public var eclipseIDs: Int
    /// Resolves of the eclipse target during measurement (one a second from a random honest node).
    public var eclipseResolves: Int
    /// Share of them that returned a valid record (the eclipse fails when this is at least 99 %).
    public var eclipseSuccessRate: Double
    /// Share of them that returned the newest record.
    public var eclipseFreshRate: Double
}
