import KeywayCore

/// A set of node indices with O(1) insert, remove and uniform random choice (by swap-remove).
/// Its order depends only on the calls made, so random choices are reproducible.
struct SampledSet {
    private(set) var members: [Int32] = []
    private var position: [Int32]

    /// An empty set over indices `0..<capacity`.
    init(capacity: Int) { position = Array(repeating: -1, count: capacity) }

    /// Number of members.
    var count: Int { members.count }

    /// Whether `index` is a member.
    func contains(_ index: Int) -> Bool { position[index] >= 0 }

    /// Adds `index` (no-op if present).
    mutating func insert(_ index: Int) {
        guard position[index] < 0 else { return }
        position[index] = Int32(members.count)
        members.append(Int32(index))
    }

    /// Removes `index` (no-op if absent).
    mutating func remove(_ index: Int) {
        let at = Int(position[index])
        guard at >= 0 else { return }
        let last = members.removeLast()
        if at < members.count {
            members[at] = last
            position[Int(last)] = Int32(at)
        }
        position[index] = -1
    }

    /// A uniformly random member other than `excluded`, if there is one.
    func random(excluding excluded: Int? = nil, using rng: inout SeededRandom) -> Int? {
        let available = members.count - (excluded.map { contains($0) ? 1 : 0 } ?? 0)
        guard available > 0 else { return nil }
        while true {
            let pick = Int(members[rng.index(below: members.count)])
            if pick != excluded { return pick }
        }
    }
}
