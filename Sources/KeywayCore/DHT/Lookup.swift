/// An iterative Kademlia lookup toward one target (one state machine; the node sends its queries).
///
/// Definitions: a lookup keeps a list of candidates ordered by XOR distance to the target.
/// It queries unqueried candidates among the `resultCount` closest live ones, at most
/// `parallelism` at a time while it still gets closer, and all of them at once (up to
/// `convergedParallelism`) once it has arrived: the closest live candidate has answered, or a
/// holder of the item has. Responders add the nodes they know. The lookup ends when every one
/// of the `resultCount` closest live candidates has answered (or none is left to ask), bar at
/// most `stragglerAllowance` stragglers once the responders agree; for a get, as soon as
/// `agreementQuorum` of those closest returned the newest item and no responder returned
/// another version; when it has sent `queryLimit` queries; or when its caller cancels it.
/// Failed candidates drop out of the "closest live" set. A query unanswered after about one
/// and a half round trips is a "straggler" (still awaited, but the end condition may pass it
/// over); after a few round-trip times it is "stalled": it frees its slot and stops holding
/// the lookup open (its late answer is still used), so a dead or moved node delays a lookup
/// by a few round trips, not by a whole query timeout. Contacts named by a responder whose
/// named contacts have all gone silent are skipped (`distrustAfter`).
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

    /// `distrusted`: named only by a responder none of whose named contacts has answered while
    /// ``DHTConfiguration/lookupDistrustAfterSilentReferrals`` of them went silent; it is
    /// skipped like a failed one unless another responder names it too.
    enum CandidateState: Sendable, Equatable { case fresh, inFlight, stalled, responded, failed, distrusted }

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
        /// In flight for longer than the straggler wait (``DHTConfiguration/lookupStragglerRTTMultiplier``):
        /// it may be passed over when the lookup decides whether it is done.
        var isStraggling = false
        /// The responder that named it (`nil`: from our own table).
        var referrer: NodeID?
    }

    /// What the contacts one responder named have done so far.
    struct Referrals: Sendable {
        /// Named contacts that answered.
        var answered = 0
        /// Named contacts whose queries stalled or failed.
        var silent = 0
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
    private let convergedParallelism: Int
    private let stragglerAllowance: Int
    private let distrustAfter: Int
    private let agreementQuorum: Int
    /// Whether some responder returned a version of the item (the lookup is among its holders).
    private(set) var holderAnswered = false
    /// Per responder, how its named contacts fared (at most one entry per response).
    private var referrals: [NodeID: Referrals] = [:]

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
        convergedParallelism = max(parallelism, configuration.lookupConvergedParallelism)
        stragglerAllowance = max(0, configuration.lookupStragglerAllowance)
        distrustAfter = configuration.lookupDistrustAfterSilentReferrals
        agreementQuorum = configuration.lookupAgreementQuorum
        add(seeds, depth: 1)
    }

    /// Adds newly learned nodes, keeping the list sorted and bounded; `referrer` is the
    /// responder that named them (`nil`: our own table).
    mutating func add(_ nodes: [NodeContact], depth: Int, referrer: NodeID? = nil) {
        for node in nodes {
            // The same ID at another endpoint is a node that moved: worth asking there too.
            if let known = candidates.firstIndex(where: { $0.node.endpoint == node.endpoint }) {
                // A second responder vouches for a contact the first one's record made us skip.
                if candidates[known].state == .distrusted, let referrer, referrer != candidates[known].referrer,
                   candidates[known].node.id == node.id {
                    candidates[known].state = .fresh
                    candidates[known].referrer = referrer
                }
                continue
            }
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
            candidates.insert(Candidate(node: node, distance: distance, depth: depth, referrer: referrer), at: position)
            if candidates.count > candidateLimit {
                // Never forget a node we are waiting on: its answer must still find its slot.
                if let drop = candidates.lastIndex(where: { $0.state != .inFlight }) { candidates.remove(at: drop) }
            }
        }
    }

    /// The next candidates to query now (marked in flight), respecting parallelism and limits.
    ///
    /// While the lookup still gets closer to the target it keeps ``DHTConfiguration/lookupParallelism``
    /// queries in flight; once the closest live candidate has answered (the lookup has arrived:
    /// nobody it knows is closer), it asks every unasked one of the ``DHTConfiguration/lookupResultCount``
    /// closest at once, up to ``DHTConfiguration/lookupConvergedParallelism`` in flight, as
    /// Kademlia does when a round brings no closer node: the end condition needs all of them.
    mutating func nextQueries() -> [NodeContact] {
        var out: [NodeContact] = []
        var live = 0
        var limit = parallelism
        if holderAnswered || candidates.first(where: { Lookup.isLive($0.state) })?.state == .responded {
            limit = convergedParallelism
        }
        for index in candidates.indices {
            guard inFlight < limit, queriesSent < queryLimit, live < resultCount else { break }
            switch candidates[index].state {
            case .failed, .stalled, .distrusted: continue
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

    /// Whether a candidate in this state still counts among the closest (live) ones.
    static func isLive(_ state: CandidateState) -> Bool {
        state != .failed && state != .stalled && state != .distrusted
    }

    /// Whether the lookup has nothing more to do: every one of the ``DHTConfiguration/lookupResultCount``
    /// closest live candidates has answered, except at most ``DHTConfiguration/lookupStragglerAllowance``
    /// stragglers (in flight past their straggler wait) once those that answered agree
    /// (``respondersAgree``); a get, as soon as its quorum agrees (``quorumAgrees``); or the
    /// query limit is spent and nothing it waits for is still in flight. Queries in flight to
    /// candidates that closer ones have pushed out of that set do not hold it.
    var isFinished: Bool {
        var live = 0
        var stragglers = 0
        var waiting = false
        var fresh = false
        for candidate in candidates where Lookup.isLive(candidate.state) {
            switch candidate.state {
            case .fresh: fresh = true
            case .inFlight:
                if candidate.isStraggling { stragglers += 1 } else { waiting = true }
            default: break
            }
            live += 1
            if live >= resultCount { break }
        }
        if quorumAgrees { return true }
        if queriesSent >= queryLimit { return !waiting && (stragglers == 0 || respondersAgree) || inFlight == 0 }
        if fresh || waiting { return false }
        return stragglers == 0 || (stragglers <= stragglerAllowance && respondersAgree)
    }

    /// Whether a get lookup may end at once: ``DHTConfiguration/lookupAgreementQuorum`` of the
    /// ``DHTConfiguration/lookupResultCount`` closest live candidates answered with the newest
    /// item found, and no responder at all returned another `seq` (an older copy, or a newer one
    /// that failed verification). Agreement counts only among the closest known: holders
    /// farther out (an old copy handed on, a former neighbour) name the closer nodes as they
    /// answer, which then push them out of the set.
    private var quorumAgrees: Bool {
        guard agreementQuorum > 0, case .getItem = purpose, let best else { return false }
        for candidate in candidates where candidate.state == .responded {
            if let sequence = candidate.returnedSequence, sequence != best.sequence { return false }
        }
        var agreeing = 0
        var live = 0
        for candidate in candidates where Lookup.isLive(candidate.state) {
            if candidate.state == .responded, candidate.returnedSequence == best.sequence { agreeing += 1 }
            live += 1
            if live >= resultCount { break }
        }
        return agreeing >= agreementQuorum
    }

    /// Whether the closest responders agree, so stragglers need not be waited for: always for
    /// find_node and put lookups (a late answer still gets its put, ``DHTConfiguration/latePutWindow``);
    /// for a get, an item was found and no one of the closest live candidates that answered
    /// returned another `seq`. A disagreement (an older copy, a forged one) means a straggler
    /// may hold the newest, so the lookup waits for it; a node that holds no copy claims nothing.
    private var respondersAgree: Bool {
        guard case .getItem = purpose else { return true }
        guard let best else { return false }
        var live = 0
        for candidate in candidates where Lookup.isLive(candidate.state) {
            if candidate.state == .responded, let sequence = candidate.returnedSequence, sequence != best.sequence { return false }
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
        if sequence != nil { holderAnswered = true }
        candidates[index].isStraggling = false
        responses += 1
        if let referrer = candidates[index].referrer { referrals[referrer, default: Referrals()].answered += 1 }
        return candidates[index].depth
    }

    /// Records that the query to the node at `endpoint` failed (timeout or error).
    mutating func recordFailure(endpoint: Endpoint, timedOut: Bool) {
        guard let index = candidates.firstIndex(where: { $0.node.endpoint == endpoint && ($0.state == .inFlight || $0.state == .stalled) }) else { return }
        let wasStalled = candidates[index].state == .stalled
        if candidates[index].state == .inFlight { inFlight -= 1 }
        candidates[index].state = .failed
        if timedOut { timeouts += 1 }
        if !wasStalled { noteSilence(of: index) }
    }

    /// Records that the query to `endpoint` has waited its stall time: it stops counting as in
    /// flight and stops holding the lookup open, but a late answer is still taken.
    mutating func recordStall(endpoint: Endpoint) {
        guard let index = candidates.firstIndex(where: { $0.node.endpoint == endpoint && $0.state == .inFlight }) else { return }
        candidates[index].state = .stalled
        inFlight -= 1
        noteSilence(of: index)
    }

    /// Records that the query to `endpoint` has waited its straggler wait: it may be passed
    /// over by the end condition (``isFinished``) but keeps its place and slot.
    mutating func recordStraggling(endpoint: Endpoint) {
        guard let index = candidates.firstIndex(where: { $0.node.endpoint == endpoint && $0.state == .inFlight }) else { return }
        candidates[index].isStraggling = true
    }

    /// A contact went silent: when its referrer has now named ``distrustAfter`` silent contacts
    /// and no answering one, its other unasked contributions are skipped (a liar names fabricated
    /// contacts closer than any real node; asking them all would cost a stall wait each).
    private mutating func noteSilence(of index: Int) {
        guard let referrer = candidates[index].referrer else { return }
        referrals[referrer, default: Referrals()].silent += 1
        guard distrustAfter > 0, let record = referrals[referrer], record.answered == 0, record.silent >= distrustAfter else { return }
        for other in candidates.indices where candidates[other].referrer == referrer && candidates[other].state == .fresh {
            candidates[other].state = .distrusted
        }
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
