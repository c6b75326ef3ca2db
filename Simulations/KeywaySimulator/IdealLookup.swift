import KeywayCore

/// The ideal Kademlia model a real lookup is measured against: every live node has a perfect
/// routing table, a lookup sends ``DHTConfiguration/lookupParallelism`` queries per round and
/// every query is answered at once.
///
/// Definitions: node `x`'s perfect bucket `i` holds up to ``DHTConfiguration/bucketSize`` live
/// nodes drawn at random (deterministically, from `x`'s ID and `i`) among all live nodes that
/// share exactly `i` leading bits with `x`; its answer for a target is the
/// ``DHTConfiguration/bucketSize`` closest of those buckets, taken in the order
/// ``RoutingTable/closest(to:count:ipv4:)`` takes them. The resolver's first candidates are its
/// own perfect answer (depth 1); a node learnt from a depth-`d` answer has depth `d + 1`. The
/// ideal hop count of a resolve is the depth of the first record holder the model queries, the
/// same measure as ``LookupStatistics/hops`` for a lookup that found an item.
///
/// Live membership is a snapshot (``rebuild(ids:)``), refreshed by the simulation at most once
/// per ``Simulation/idealSnapshotInterval``; a node that left since is skipped when queried.
struct IdealLookup {
    /// Live nodes sorted by ID.
    private(set) var sorted: [(id: NodeID, node: Int32)] = []
    /// When the snapshot was taken.
    var takenAt: Instant?

    /// Replaces the snapshot with `ids` (node index and ID of every live node).
    mutating func rebuild(ids: [(id: NodeID, node: Int32)], now: Instant) {
        sorted = ids.sorted { $0.id < $1.id }
        takenAt = now
    }

    /// The ideal hop count of a lookup of `target` from `resolver`, or `nil` if the model
    /// reaches no node for which `holds` is true within `queryLimit` queries.
    func hops(from resolver: NodeID, target: NodeID, configuration: DHTConfiguration,
              isLive: (Int32) -> Bool, holds: (Int32) -> Bool) -> Int? {
        let k = configuration.bucketSize
        var candidates: [(distance: NodeID, id: NodeID, node: Int32, depth: Int)] = []
        var seen = Set<NodeID>()
        var queried = Set<NodeID>()
        func add(_ answer: [(id: NodeID, node: Int32)], depth: Int) {
            for entry in answer where seen.insert(entry.id).inserted {
                candidates.append((entry.id.distance(to: target), entry.id, entry.node, depth))
            }
            candidates.sort { $0.distance < $1.distance }
        }
        add(answer(of: resolver, for: target, count: k), depth: 1)
        var sent = 0
        while sent < configuration.lookupQueryLimit {
            // One round: the closest unqueried among the k closest live candidates.
            let round = candidates.prefix(k).filter { !queried.contains($0.id) }.prefix(configuration.lookupParallelism)
            if round.isEmpty { return nil }
            var learnt: [([(id: NodeID, node: Int32)], Int)] = []
            var found: Int?
            for candidate in round {
                queried.insert(candidate.id)
                sent += 1
                guard isLive(candidate.node) else {
                    candidates.removeAll { $0.id == candidate.id }
                    continue
                }
                if holds(candidate.node) { found = min(found ?? .max, candidate.depth) }
                learnt.append((answer(of: candidate.id, for: target, count: k), candidate.depth + 1))
            }
            if let found { return found }
            for (nodes, depth) in learnt { add(nodes, depth: depth) }
        }
        return nil
    }

    /// The `count` closest to `target` among `x`'s perfect buckets.
    func answer(of x: NodeID, for target: NodeID, count: Int) -> [(id: NodeID, node: Int32)] {
        let nearest = min(x.commonPrefixLength(with: target), NodeID.bitCount - 1)
        var out: [(id: NodeID, node: Int32)] = []
        func take(_ bucket: Int) {
            var picked = members(of: x, bucket: bucket, count: count)
            picked.sort { $0.id.distance(to: target) < $1.id.distance(to: target) }
            out += picked.prefix(count - out.count)
        }
        // The same order of groups as RoutingTable.closest: the target's bucket, the buckets
        // nearer to x (all farther from the target, nearest first), then the farther ones.
        take(nearest)
        var index = nearest + 1
        while out.count < count && index < NodeID.bitCount {
            var group: [(id: NodeID, node: Int32)] = []
            while index < NodeID.bitCount && group.count < 4 * count {
                group += members(of: x, bucket: index, count: count)
                index += 1
            }
            group.sort { $0.id.distance(to: target) < $1.id.distance(to: target) }
            out += group.prefix(count - out.count)
        }
        index = nearest - 1
        while out.count < count && index >= 0 {
            take(index)
            index -= 1
        }
        return out.filter { $0.id != x }
    }

    /// Up to `count` members of `x`'s perfect bucket `bucket`, drawn deterministically.
    private func members(of x: NodeID, bucket: Int, count: Int) -> [(id: NodeID, node: Int32)] {
        let sibling = x.flippingBit(bucket)
        let lower = IdealLookup.prefix(of: sibling, bits: bucket + 1, fillingWithOnes: false)
        let upper = IdealLookup.prefix(of: sibling, bits: bucket + 1, fillingWithOnes: true)
        let start = firstIndex(notBelow: lower)
        var end = start
        while end < sorted.count && !(upper < sorted[end].id) && end - start <= count { end += 1 }
        if end - start <= count { return Array(sorted[start..<end]) }
        end = firstIndex(notBelow: upper)
        if end < sorted.count && sorted[end].id == upper { end += 1 }
        let size = end - start
        var random = SeededRandom(seed: x.high ^ UInt64(bucket) &* 0x9E37_79B9_7F4A_7C15)
        var chosen = Set<Int>()
        while chosen.count < count { chosen.insert(start + Int(random.next() % UInt64(size))) }
        return chosen.sorted().map { sorted[$0] }
    }

    private func firstIndex(notBelow id: NodeID) -> Int {
        var low = 0, high = sorted.count
        while low < high {
            let middle = (low + high) / 2
            if sorted[middle].id < id { low = middle + 1 } else { high = middle }
        }
        return low
    }

    /// `id` with its first `bits` bits kept and the rest all zeros or all ones.
    static func prefix(of id: NodeID, bits: Int, fillingWithOnes ones: Bool) -> NodeID {
        func word64(_ value: UInt64, start: Int) -> UInt64 {
            let keep = max(0, min(64, bits - start))
            let mask: UInt64 = keep == 0 ? 0 : (keep == 64 ? .max : ~(UInt64.max >> UInt64(keep)))
            return (value & mask) | (ones ? ~mask : 0)
        }
        let keepLow = max(0, min(32, bits - 128))
        let lowMask: UInt32 = keepLow == 0 ? 0 : (keepLow == 32 ? .max : ~(UInt32.max >> UInt32(keepLow)))
        return NodeID(high: word64(id.high, start: 0), middle: word64(id.middle, start: 64),
                      low: (id.low & lowMask) | (ones ? ~lowMask : 0))
    }
}
