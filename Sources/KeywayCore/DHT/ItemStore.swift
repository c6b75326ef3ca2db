import KeywayCrypto

/// BEP 44 storage: the items this node holds for others, with expiry and bounds.
///
/// Contracts:
/// - A mutable item is stored only if its signature verifies and its sizes are within BEP 44.
/// - A put whose `seq` is lower than the stored one MUST be refused (302); an equal `seq` with
///   the same value refreshes the item's lifetime, with another value it is refused (302).
/// - A put with `cas` MUST be refused (301) unless `cas` equals the stored `seq`.
/// - The store never holds more than `maximumStoredItems` items or `maximumStoredBytes` bytes of
///   values. When full, an item closer to this node's ID than the farthest one held displaces
///   it (Kademlia makes this node responsible for nearby targets); otherwise the put is refused.
public struct ItemStore: Sendable {
    /// What is stored under a target.
    public enum Item: Sendable, Equatable {
        /// A signed, versioned item.
        case mutable(MutableItem)
        /// An immutable item: its bencoded value, whose SHA-1 is the target.
        case immutable(encodedValue: [UInt8])

        var byteCount: Int {
            switch self {
            case let .mutable(item): return item.encodedValue.count + item.salt.count + 96
            case let .immutable(value): return value.count
            }
        }
    }

    private struct Entry: Sendable {
        var item: Item
        var expires: Instant
    }

    private var entries: [NodeID: Entry] = [:]
    /// Bytes currently held, as counted against ``DHTConfiguration/maximumStoredBytes``.
    public private(set) var byteCount = 0
    private let ownID: NodeID
    private let configuration: DHTConfiguration

    /// An empty store for a node with `ownID`.
    public init(ownID: NodeID, configuration: DHTConfiguration) {
        self.ownID = ownID
        self.configuration = configuration
    }

    /// Number of items held.
    public var count: Int { entries.count }

    /// The item under `target`, if held and not expired.
    public func item(for target: NodeID, now: Instant) -> Item? {
        guard let entry = entries[target], entry.expires > now else { return nil }
        return entry.item
    }

    /// Every mutable item held and not expired at `now`, in no particular order (for audits).
    public func mutableItems(now: Instant) -> [MutableItem] {
        entries.values.compactMap { entry in
            guard entry.expires > now, case let .mutable(item) = entry.item else { return nil }
            return item
        }
    }

    /// Targets of the items held and not expired at `now` that `node` is closer to than this
    /// node is, nearest to `node` first (a deterministic order, whatever the dictionary's).
    /// These are the items a node that newly appears there may need (see
    /// ``DHTConfiguration/handOffStoredItems``).
    public func targets(closerTo node: NodeID, now: Instant) -> [NodeID] {
        var found: [NodeID] = []
        for (target, entry) in entries where entry.expires > now && node.distance(to: target) < ownID.distance(to: target) {
            found.append(target)
        }
        return found.sorted { node.distance(to: $0) < node.distance(to: $1) }
    }

    /// Stores a mutable item, applying every BEP 44 rule; returns the KRPC error to answer with.
    public mutating func put(_ item: MutableItem, cas: Int64?, now: Instant) -> KRPCError? {
        if item.encodedValue.count > DHTSpec.maximumValueLength {
            return KRPCError(code: DHTSpec.ErrorCode.valueTooBig, message: "v too big")
        }
        if item.salt.count > DHTSpec.maximumSaltLength {
            return KRPCError(code: DHTSpec.ErrorCode.saltTooBig, message: "salt too big")
        }
        let target = item.target
        if let existing = self.item(for: target, now: now), case let .mutable(stored) = existing {
            if let cas, cas != stored.sequence {
                return KRPCError(code: DHTSpec.ErrorCode.casMismatch, message: "CAS mismatch, re-read and try again")
            }
            if item.sequence < stored.sequence || (item.sequence == stored.sequence && item.encodedValue != stored.encodedValue) {
                return KRPCError(code: DHTSpec.ErrorCode.sequenceNotNewer, message: "sequence number less than current")
            }
            if item.sequence == stored.sequence {
                entries[target]?.expires = now + configuration.itemLifetime
                return nil
            }
        }
        // The signature is checked last: it is the expensive step.
        guard item.isValid else {
            return KRPCError(code: DHTSpec.ErrorCode.invalidSignature, message: "invalid signature")
        }
        return insert(.mutable(item), at: target, now: now)
    }

    /// Stores an immutable item (target = SHA-1 of its bencoded value).
    public mutating func putImmutable(encodedValue: [UInt8], now: Instant) -> KRPCError? {
        if encodedValue.count > DHTSpec.maximumValueLength {
            return KRPCError(code: DHTSpec.ErrorCode.valueTooBig, message: "v too big")
        }
        guard let target = NodeID(bytes: SHA1.hash(encodedValue)) else { return nil }
        return insert(.immutable(encodedValue: encodedValue), at: target, now: now)
    }

    /// Drops every item whose lifetime has ended.
    public mutating func expire(now: Instant) {
        let expired = entries.filter { $0.value.expires <= now }.map(\.key)
        for target in expired { remove(target) }
    }

    private mutating func insert(_ item: Item, at target: NodeID, now: Instant) -> KRPCError? {
        remove(target)
        while entries.count >= configuration.maximumStoredItems || byteCount + item.byteCount > configuration.maximumStoredBytes {
            // Displace the farthest item, but only for a closer one.
            guard let farthest = entries.keys.max(by: { $0.distance(to: ownID) < $1.distance(to: ownID) }),
                  target.distance(to: ownID) < farthest.distance(to: ownID) else {
                return KRPCError(code: DHTSpec.ErrorCode.server, message: "storage full")
            }
            remove(farthest)
        }
        entries[target] = Entry(item: item, expires: now + configuration.itemLifetime)
        byteCount += item.byteCount
        return nil
    }

    private mutating func remove(_ target: NodeID) {
        if let old = entries.removeValue(forKey: target) { byteCount -= old.item.byteCount }
    }
}

/// BEP 5 peer storage for `announce_peer` / `get_peers`, bounded in both dimensions.
public struct PeerStore: Sendable {
    private var peers: [NodeID: [(endpoint: Endpoint, expires: Instant)]] = [:]
    private let configuration: DHTConfiguration

    /// An empty store.
    public init(configuration: DHTConfiguration) { self.configuration = configuration }

    /// Records that `endpoint` serves `infoHash`. Ignored when the store is full of other hashes.
    public mutating func announce(_ endpoint: Endpoint, for infoHash: NodeID, now: Instant) {
        if peers[infoHash] == nil && peers.count >= configuration.maximumPeerInfoHashes { return }
        var list = peers[infoHash, default: []].filter { $0.endpoint != endpoint && $0.expires > now }
        list.append((endpoint, now + configuration.peerLifetime))
        if list.count > configuration.maximumPeersPerInfoHash { list.removeFirst(list.count - configuration.maximumPeersPerInfoHash) }
        peers[infoHash] = list
    }

    /// Live peers for `infoHash`, oldest announcement first.
    public func peers(for infoHash: NodeID, now: Instant) -> [Endpoint] {
        (peers[infoHash] ?? []).filter { $0.expires > now }.map(\.endpoint)
    }

    /// Drops expired announcements.
    public mutating func expire(now: Instant) {
        for key in Array(peers.keys) {
            let live = peers[key]!.filter { $0.expires > now }
            peers[key] = live.isEmpty ? nil : live
        }
    }
}
