/// An iterative Kademlia lookup toward one target (one state machine; the node sends its queries).
///
/// Definitions: a lookup keeps a list of candidates ordered by XOR distance to the target.
/// It queries unqueried candidates among the `resultCount` closest live ones, at most
/// `parallelism` at a time; responders add the nodes they know. The lookup ends when every one of
/// the `resultCount` closest live candidates has answered (or none is left to ask), when it has
/// sent `queryLimit` queries, or when its caller cancels it. Failed candidates drop out of
/// the "closest live" set. A query unanswered after a few round-trip times is "stalled": it
/// frees its slot and stops holding the lookup open (its late answer is still used), so a dead
/// or moved node delays a lookup by a few round trips, not by a whole query timeout.
struct Lookup: Sendable {
    /// Why the lookup runs, and what it collects.
    enum Purpose: Sendable, Equatable {
        /// Filling the routing table (bootstrap or bucket refresh).
        case findNode
        /// Fetching a BEP 44 item (a resolve); the newest valid one wins.
        case getItem(MutableItemQuery)
        /// Collecting write tokens before putting `item` on the closest nodes.
        case putItem(MutableItem)
    }

    /// A mutable item being looked for: the key and salt whose SHA-1 is the target.
    struct MutableItemQuery: Sendable, Equatable {
        var publicKey: [UInt8]
        var salt: [UInt8]
    }

    enum CandidateState: Sendable, Equatable { case fresh, inFlight, stalled, responded, failed }

    struct Candidate: Sendable {
        var node: NodeContact
        var distance: NodeID
        var state: CandidateState = .fresh
        /// 1 for contacts from our own table, n+1 for nodes learned from a depth-n responder.
        var depth: Int
        /// The write token it gave us (get lookups).
        var token: [UInt8]?
        /// The `seq` of the item it returned, if any.
        var returnedSequence: Int64?
    }

    let id: OperationID
    let target: NodeID
    let purpose: Purpose
    let startedAt: Instant
    private(set) var candidates: [Candidate] = []
    private(set) var inFlight = 0
    private(set) var queriesSent = 0
    private(set) var responses = 0
    private(set) var timeouts = 0
    /// The newest valid item found so far (get and put lookups).
    var best: MutableItem?
    /// Depth of the candidate that returned ``best``.
    var bestDepth = 0
    private let resultCount: Int
    private let parallelism: Int
    private let candidateLimit: Int
    private let queryLimit: Int
    private let candidatesPerPrefix: Int
    private let exemptLocal: Bool
    private let ipv4PrefixLength: Int
    private let ipv6PrefixLength: Int

    init(id: OperationID, target: NodeID, purpose: Purpose, seeds: [NodeContact], now: Instant, configuration: DHTConfiguration) {
        self.id = id
        self.target = target
        self.purpose = purpose
        self.startedAt = now
        resultCount = max(1, configuration.lookupResultCount)
        parallelism = max(1, configuration.lookupParallelism)
        candidateLimit = max(resultCount, configuration.lookupCandidateLimit)
        queryLimit = max(1, configuration.lookupQueryLimit)
        candidatesPerPrefix = max(1, configuration.lookupCandidatesPerPrefix)
        exemptLocal = configuration.routingLimitsExemptLocalNetworks
        ipv4PrefixLength = configuration.routingIPv4PrefixLength
        ipv6PrefixLength = configuration.routingIPv6PrefixLength
        add(seeds, depth: 1)
    }

    /// Adds newly learned nodes, keeping the list sorted and bounded.
    mutating func add(_ nodes: [NodeContact], depth: Int) {
        for node in nodes {
            // The same ID at another endpoint is a node that moved: worth asking there too.
            if candidates.contains(where: { $0.node.endpoint == node.endpoint }) { continue }
            if !(exemptLocal && node.endpoint.address.isLocalNetwork) {
                // At most a few candidates per routing prefix: one network answering with many
                // IDs of its own cannot take over the closest set.
                let prefix = AddressPrefix(node.endpoint.address, ipv4Bits: ipv4PrefixLength, ipv6Bits: ipv6PrefixLength)
                var samePrefix = 0
                for candidate in candidates where AddressPrefix(candidate.node.endpoint.address, ipv4Bits: ipv4PrefixLength, ipv6Bits: ipv6PrefixLength) == prefix {
                    samePrefix += 1
                }
                if samePrefix >= candidatesPerPrefix { continue }
            }
            let distance = node.id.distance(to: target)
            if candidates.count >= candidateLimit, let last = candidates.last, !(distance < last.distance) { continue }
            var position = candidates.count
            while position > 0 && distance < candidates[position - 1].distance { position -= 1 }
            candidates.insert(Candidate(node: node, distance: distance, depth: depth), at: position)
            if candidates.count > candidateLimit {
                // Never forget a node we are waiting on: its answer must still find its slot.
                if let drop = candidates.lastIndex(where: { $0.state != .inFlight }) { candidates.remove(at: drop) }
            }
        }
    }

    /// The next candidates to query now (marked in flight), respecting parallelism and limits.
    mutating func nextQueries() -> [NodeContact] {
        var out: [NodeContact] = []
        var live = 0
        for index in candidates.indices {
            guard inFlight < parallelism, queriesSent < queryLimit, live < resultCount else { break }
            switch candidates[index].state {
            case .failed, .stalled: continue
            case .responded, .inFlight: live += 1
            case .fresh:
                live += 1
                candidates[index].state = .inFlight
                inFlight += 1
                queriesSent += 1
                out.append(candidates[index].node)
            }
        }
        return out
    }

    /// Whether the lookup has nothing more to do.
    var isFinished: Bool {
        if inFlight > 0 { return false }
        if queriesSent >= queryLimit { return true }
        var live = 0
        for candidate in candidates where candidate.state != .failed && candidate.state != .stalled {
            if candidate.state == .fresh { return false }
            live += 1
            if live >= resultCount { break }
        }
        return true
    }

    /// Records an answer from `nodeID` at `endpoint`; returns its depth, or `nil` if it was not asked.
    @discardableResult
    mutating func recordResponse(from nodeID: NodeID, at endpoint: Endpoint, token: [UInt8]?, sequence: Int64?) -> Int? {
        guard let index = candidates.firstIndex(where: {
            $0.node.id == nodeID && $0.node.endpoint == endpoint && ($0.state == .inFlight || $0.state == .stalled)
        }) else { return nil }
        if candidates[index].state == .inFlight { inFlight -= 1 }
        candidates[index].state = .responded
        candidates[index].token = token
        candidates[index].returnedSequence = sequence
        responses += 1
        return candidates[index].depth
    }

    /// Records that the query to the node at `endpoint` failed (timeout or error).
    mutating func recordFailure(endpoint: Endpoint, timedOut: Bool) {
        guard let index = candidates.firstIndex(where: { $0.node.endpoint == endpoint && ($0.state == .inFlight || $0.state == .stalled) }) else { return }
        if candidates[index].state == .inFlight { inFlight -= 1 }
        candidates[index].state = .failed
        if timedOut { timeouts += 1 }
    }

    /// Records that the query to `endpoint` has waited its stall time: it stops counting as in
    /// flight and stops holding the lookup open, but a late answer is still taken.
    mutating func recordStall(endpoint: Endpoint) {
        guard let index = candidates.firstIndex(where: { $0.node.endpoint == endpoint && $0.state == .inFlight }) else { return }
        candidates[index].state = .stalled
        inFlight -= 1
    }

    /// The closest nodes that answered, nearest first.
    func closestResponders(_ count: Int) -> [Candidate] {
        Array(candidates.lazy.filter { $0.state == .responded }.prefix(count))
    }

    /// Greatest depth among the closest responders (the lookup's hop count).
    var hops: Int {
        closestResponders(resultCount).map(\.depth).max() ?? 0
    }
}

/// Identifies one operation the caller started (a resolve, a publish, a refresh).
public struct OperationID: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// A number unique within one node.
    public let rawValue: UInt64
    /// Wraps a number.
    public init(rawValue: UInt64) { self.rawValue = rawValue }
    /// Numeric order (operations are numbered in the order they started).
    public static func < (lhs: OperationID, rhs: OperationID) -> Bool { lhs.rawValue < rhs.rawValue }
    /// `op#N`.
    public var description: String { "op#\(rawValue)" }
}

/// Counters describing how one lookup went.
public struct LookupStatistics: Sendable, Equatable {
    /// Queries sent.
    public var queries: Int
    /// Answers received.
    public var responses: Int
    /// Queries that timed out.
    public var timeouts: Int
    /// Hops: the depth of the farthest-down node in the result (or that held the item).
    public var hops: Int
    /// From start to end.
    public var duration: Duration
}
