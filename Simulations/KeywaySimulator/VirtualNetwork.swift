import KeywayCore

/// The virtual network: gives nodes addresses, knows who owns each address now, and decides
/// each datagram's fate (loss, corruption, reordering, duplication, latency, partitions).
///
/// Addresses are never reused: IPv4 in `10.0.0.0/8` (plus IPv6 in `fd00::/16` for dual-stack
/// nodes), all on port ``port``. Consecutive addresses fall in different prefixes, as hosts on
/// the internet do: address number `n` is `10.A.B.H` with `A.B` the low 16 bits of `n` and
/// `H - 1` the rest, so the first 65,536 addresses each have a /24 of their own (a million share
/// 16 to a /24), and its IPv6 twin is `fd00:0:NNNN:NNNN::1`, a /48 of its own. The per-prefix
/// limits of the core (one IP, /24 or /48 counted as one source) then see a simulated network
/// as they would see a real one. A datagram to an address nobody holds any more (the node moved
/// or left) is dropped on arrival, as on a real network.
struct VirtualNetwork {
    /// The port every node listens on.
    static let port: UInt16 = 6881
    private static let ipv4Network: UInt32 = 0x0A00_0000
    private static let ipv6Prefix: UInt64 = 0xFD00_0000_0000_0000
    /// Most addresses a run may hand out (255 hosts in each of the 65,536 /24s of `10.0.0.0/8`).
    static let maximumAddresses = 255 << 16

    /// The IPv4 address of address number `number`.
    @inline(__always)
    static func ipv4(_ number: Int) -> UInt32 {
        ipv4Network | UInt32(number & 0xFFFF) << 8 | UInt32((number >> 16) + 1)
    }

    /// The address number of an IPv4 address, if it is one of ours.
    @inline(__always)
    static func number(ipv4 address: UInt32) -> Int? {
        guard address & 0xFF00_0000 == ipv4Network, address & 0xFF != 0 else { return nil }
        return Int((address & 0xFF) - 1) << 16 | Int((address >> 8) & 0xFFFF)
    }

    let latency: LatencyModel
    let faults: FaultOptions
    private var rng: SeededRandom
    /// Owner of address number `n`, or -1.
    private var owners: [Int32] = []
    /// Owner of each endpoint of the attacker's /24 (``HostileWorld/attackerEndpoint(slot:)``).
    private var attackerOwners: [Int32] = []
    /// Region of each node (for ``LatencyModel/regions(_:)``).
    private let regions: [UInt8]
    /// Partitions in force, as (seed, fraction) pairs deciding each node's side.
    private var activePartitions: [(seed: UInt64, fraction: Double)] = []

    /// Fault counters.
    private(set) var counters = NetworkCounters()

    init(latency: LatencyModel, faults: FaultOptions, nodes: Int, rng: SeededRandom) {
        self.latency = latency
        self.faults = faults
        self.rng = rng
        let regionCount = latency.regionCount
        regions = (0..<nodes).map { UInt8($0 % regionCount) }
        owners.reserveCapacity(nodes)
    }

    /// Hands `node` a fresh address (and a fresh IPv6 one when `dualStack`); `nil` when the
    /// address space is exhausted.
    mutating func bind(node: Int, dualStack: Bool) -> (primary: Endpoint, secondary: Endpoint?)? {
        guard owners.count < VirtualNetwork.maximumAddresses else { return nil }
        let number = owners.count
        owners.append(Int32(node))
        let primary = Endpoint(address: .v4(VirtualNetwork.ipv4(number)), port: VirtualNetwork.port)
        let secondary = dualStack
            ? Endpoint(address: .v6(high: VirtualNetwork.ipv6Prefix | UInt64(number) << 16, low: 1), port: VirtualNetwork.port) : nil
        return (primary, secondary)
    }

    /// Gives hostile `node` the next endpoint of the attacker's /24 (`endpoint`, slot number
    /// ``HostileWorld/attackerSlot(of:)``, handed out in order).
    mutating func bindAttacker(node: Int, at endpoint: Endpoint) {
        guard let slot = HostileWorld.attackerSlot(of: endpoint), slot == attackerOwners.count else { return }
        attackerOwners.append(Int32(node))
    }

    /// Releases an address: datagrams to it are dropped from now on.
    mutating func unbind(_ endpoint: Endpoint) {
        if let number = number(of: endpoint) { owners[number] = -1 }
    }

    /// The node holding `endpoint` now, if any.
    @inline(__always)
    func owner(of endpoint: Endpoint) -> Int? {
        guard let number = number(of: endpoint) else {
            if !attackerOwners.isEmpty, let slot = HostileWorld.attackerSlot(of: endpoint), slot < attackerOwners.count {
                return Int(attackerOwners[slot])
            }
            return nil
        }
        let owner = owners[number]
        return owner >= 0 ? Int(owner) : nil
    }

    @inline(__always)
    private func number(of endpoint: Endpoint) -> Int? {
        guard endpoint.port == VirtualNetwork.port else { return nil }
        let number: Int
        switch endpoint.address {
        case let .v4(address):
            guard let ours = VirtualNetwork.number(ipv4: address) else { return nil }
            number = ours
        case let .v6(high, low):
            guard high & 0xFFFF_0000_0000_FFFF == VirtualNetwork.ipv6Prefix, low == 1 else { return nil }
            number = Int((high >> 16) & 0xFFFF_FFFF)
        }
        return number < owners.count ? number : nil
    }

    /// Decides what happens to a datagram `sender` sends to `receiver` (`nil`: nobody holds the
    /// address now). Returns the delay of each copy to deliver (none when lost), and may flip a
    /// byte of `payload`.
    mutating func transmit(from sender: Int, to receiver: Int?, payload: inout [UInt8]) -> (first: Duration?, copy: Duration?) {
        counters.sent += 1
        if faults.loss > 0, rng.chance(faults.loss) {
            counters.lost += 1
            return (nil, nil)
        }
        if faults.corruption > 0, !payload.isEmpty, rng.chance(faults.corruption) {
            counters.corrupted += 1
            let index = rng.index(below: payload.count)
            payload[index] ^= UInt8(truncatingIfNeeded: 1 + rng.index(below: 255))
        }
        let to = receiver.map { Int(regions[$0]) } ?? 0
        let from = Int(regions[sender])
        var first = latency.sample(from: from, to: to, using: &rng)
        if faults.reordering > 0, rng.chance(faults.reordering) {
            counters.reordered += 1
            first += .seconds(double: faults.reorderingDelay.secondsDouble * rng.unit())
        }
        var copy: Duration?
        if faults.duplication > 0, rng.chance(faults.duplication) {
            counters.duplicated += 1
            copy = latency.sample(from: from, to: to, using: &rng)
        }
        return (first, copy)
    }

    /// Whether a partition in force separates `a` from `b`.
    @inline(__always)
    func partitioned(_ a: Int, _ b: Int) -> Bool {
        for partition in activePartitions where VirtualNetwork.side(a, partition) != VirtualNetwork.side(b, partition) {
            return true
        }
        return false
    }

    private static func side(_ node: Int, _ partition: (seed: UInt64, fraction: Double)) -> Bool {
        var generator = SeededRandom(seed: partition.seed ^ UInt64(node) &* 0x9E37_79B9_7F4A_7C15)
        return generator.unit() < partition.fraction
    }

    /// Puts a partition in force (its `seed` decides the sides).
    mutating func beginPartition(seed: UInt64, fraction: Double) {
        activePartitions.append((seed, fraction))
    }

    /// Lifts the partition started with `seed`.
    mutating func endPartition(seed: UInt64) {
        activePartitions.removeAll { $0.seed == seed }
    }

    /// Lifts every partition.
    mutating func healAll() { activePartitions.removeAll() }

    /// Counts a datagram handed to its node.
    mutating func countDelivered() { counters.delivered += 1 }

    /// Counts a datagram dropped on arrival.
    mutating func countUndeliverable(partitioned: Bool) {
        if partitioned { counters.partitioned += 1 } else { counters.unreachable += 1 }
    }
}

/// What the network did to the datagrams it carried.
public struct NetworkCounters: Sendable, Equatable, Codable {
    /// Datagrams handed to the network.
    public var sent = 0
    /// Lost at random (`--loss`).
    public var lost = 0
    /// Delivered twice (`--duplicate`).
    public var duplicated = 0
    /// Held back so later ones overtook them (`--reorder`).
    public var reordered = 0
    /// With a byte flipped (`--corrupt`).
    public var corrupted = 0
    /// Dropped because a partition separated the two ends.
    public var partitioned = 0
    /// Dropped because nobody held the destination address any more.
    public var unreachable = 0
    /// Handed to a node.
    public var delivered = 0

    /// All zeros.
    public init() {}
}
